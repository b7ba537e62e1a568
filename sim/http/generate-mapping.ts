/**
 * The HTTP generate extension's mapping (shared/triton-protocol.md §10): a JSON key that names a
 * model input becomes a tensor shaped to the config, any other key a request parameter; the
 * response flattens every output tensor (one element -> a scalar) next to model name and version.
 */
import { status } from '@grpc/grpc-js';
import type { InferParameter } from '../../src/triton/generated/grpc_service.js';
import type { ModelDefinition } from '../model/model-definition.js';
import type { WireRequest, WireTensor } from '../protocol/infer-request.js';
import { SimError } from '../protocol/sim-error.js';
import { decodeValues, encodeValues, type TensorValue } from '../protocol/tensor-values.js';
import type { OutputTensor } from '../engine/output-tensor.js';
import type { ResponseHead } from '../engine/response-sink.js';

export function generateRequest(body: unknown, model: ModelDefinition, modelName: string, version: string): WireRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SimError(status.INVALID_ARGUMENT, 'generate request must be a JSON object');
  }
  const top = body as Record<string, unknown>;
  const inputs: WireTensor[] = [];
  const parameters: Record<string, InferParameter> = {};
  const take = (key: string, value: unknown) => {
    const def = model.inputByName.get(key);
    if (def !== undefined) inputs.push(tensorFromJson(key, value, def.datatype, def.dims, model.maxBatchSize));
    else parameters[key] = parameterFromJson(key, value);
  };
  for (const [key, value] of Object.entries(top)) {
    if (key === 'parameters') continue;
    take(key, value);
  }
  if ('parameters' in top) {
    if (model.inputByName.has('parameters')) {
      throw new SimError(status.INVALID_ARGUMENT, "Keyword 'parameters' for nested schema also given as input tensor name");
    }
    const nested = top.parameters;
    if (nested === null || typeof nested !== 'object' || Array.isArray(nested)) {
      throw new SimError(status.INVALID_ARGUMENT, "Expected JSON object for keyword 'parameters'");
    }
    for (const [key, value] of Object.entries(nested)) take(key, value);
  }
  return {
    modelName,
    modelVersion: version,
    id: typeof top.id === 'string' ? top.id : '',
    parameters,
    inputs,
    usedRaw: true,
    requestedOutputs: [],
  };
}

function tensorFromJson(name: string, value: unknown, datatype: string, dims: number[], maxBatchSize: number): WireTensor {
  const values = Array.isArray(value) ? value : [value];
  const bad = () => new SimError(status.INVALID_ARGUMENT, `The schema can not convert input '${name}' to tensor with proper shape`);
  // Fixed dims keep their size, the innermost -1 takes the remaining elements, other -1 dims become 1.
  const shape = [...dims];
  const innermost = shape.lastIndexOf(-1);
  const fixed = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  for (let i = 0; i < shape.length; i++) if (shape[i] === -1) shape[i] = i === innermost ? values.length / fixed : 1;
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || shape.reduce((n, d) => n * d, 1) !== values.length) throw bad();
  for (const v of values) {
    const ok = datatype === 'BYTES' ? typeof v === 'string' : datatype === 'BOOL' ? typeof v === 'boolean' : typeof v === 'number';
    if (!ok) throw new SimError(status.INVALID_ARGUMENT, `unable to convert input '${name}' value ${JSON.stringify(v)} to ${datatype}`);
  }
  return {
    name,
    datatype,
    shape: maxBatchSize > 0 ? [1, ...shape] : shape,
    raw: encodeValues(datatype, values as TensorValue[]),
    hasContents: false,
  };
}

function parameterFromJson(key: string, value: unknown): InferParameter {
  if (typeof value === 'string') return { stringParam: value };
  if (typeof value === 'boolean') return { boolParam: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { int64Param: value } : { doubleParam: value };
  throw new SimError(status.INVALID_ARGUMENT, `parameter '${key}' has invalid type. It should be either 'int', 'bool', 'double' or 'string'.`);
}

export function generateResponse(head: ResponseHead, outputs: OutputTensor[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (head.id !== '') out.id = head.id;
  out.model_name = head.modelName;
  out.model_version = head.modelVersion;
  for (const o of outputs) {
    let values: TensorValue[];
    try {
      values = decodeValues(o.datatype, o.raw);
    } catch {
      values = [o.raw.toString('base64')];
    }
    out[o.name] = values.length === 1 ? values[0] : values;
  }
  return out;
}
