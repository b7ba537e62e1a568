/**
 * A ModelInferRequest as the simulator reads it, checked the way Triton's frontend and core
 * check it, in the same order: parameters, then tensor data presence (frontend), then names,
 * required inputs, datatype, shape with the batch-dim rules and byte sizes (core).
 * Messages are the documented ones (shared/triton-protocol.md §2.3, §2.5, §8).
 */
import { status } from '@grpc/grpc-js';
import type { InferParameter, InferTensorContents, ModelInferRequest } from '../../src/triton/generated/grpc_service.js';
import type { ModelDefinition } from '../model/model-definition.js';
import { elementCount, elementSize } from './datatypes.js';
import { SimError, requestPrefix } from './sim-error.js';
import { contentsHasData, contentsToRaw, decodeValues, type TensorValue } from './tensor-values.js';

export interface WireTensor {
  name: string;
  datatype: string;
  shape: number[];
  /** The data in raw form (converted from contents when the request used contents). */
  raw: Buffer | undefined;
  /** True when the tensor's own `contents` held data. */
  hasContents: boolean;
}

/** What arrived, before any check. HTTP generate builds the same shape from JSON. */
export interface WireRequest {
  modelName: string;
  modelVersion: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: WireTensor[];
  /** Non-empty raw_input_contents: then no input may use contents. */
  usedRaw: boolean;
  requestedOutputs: string[];
}

export interface TensorData {
  datatype: string;
  shape: number[];
  raw: Buffer;
}

export interface ValidRequest {
  id: string;
  model: ModelDefinition;
  tensors: Map<string, TensorData>;
  /** Parameters that are not Triton's reserved keys (vLLM reads them as sampling parameters). */
  customParameters: Record<string, InferParameter>;
  enableEmptyFinal: boolean;
  /** Empty = every output. */
  requestedOutputs: Set<string>;
}

export function wireFromGrpc(req: ModelInferRequest): WireRequest {
  const usedRaw = req.rawInputContents.length > 0;
  const inputs: WireTensor[] = new Array(req.inputs.length);
  for (let i = 0; i < req.inputs.length; i++) {
    const t = req.inputs[i]!;
    const hasContents = contentsHasData(t.contents);
    let raw: Buffer | undefined;
    if (usedRaw) raw = req.rawInputContents[i];
    else if (hasContents) raw = contentsToRaw(t.datatype, t.contents as InferTensorContents);
    inputs[i] = { name: t.name, datatype: t.datatype, shape: t.shape, raw, hasContents };
  }
  return {
    modelName: req.modelName,
    modelVersion: req.modelVersion,
    id: req.id,
    parameters: req.parameters,
    inputs,
    usedRaw,
    requestedOutputs: req.outputs.map((o) => o.name),
  };
}

/** The InferParameter types Triton accepts for its typed reserved keys (§2.5). */
const RESERVED_TYPES: Record<string, { fields: ReadonlyArray<keyof InferParameter>; expected: string }> = {
  sequence_id: { fields: ['int64Param', 'stringParam'], expected: 'int64_param or string_param' },
  sequence_start: { fields: ['boolParam'], expected: 'bool_param' },
  sequence_end: { fields: ['boolParam'], expected: 'bool_param' },
  priority: { fields: ['int64Param', 'uint64Param'], expected: 'int64_param or uint64_param' },
  timeout: { fields: ['int64Param'], expected: 'int64_param' },
};

function checkReservedType(key: string, p: InferParameter): void {
  const rule = RESERVED_TYPES[key];
  if (rule === undefined) return;
  if (!rule.fields.some((f) => p[f] !== undefined)) {
    throw new SimError(status.INVALID_ARGUMENT, `invalid value type for '${key}' parameter, expected ${rule.expected}.`);
  }
  if (key === 'priority' && p.int64Param !== undefined && p.int64Param < 0) {
    throw new SimError(status.INVALID_ARGUMENT, `invalid value for 'priority' parameter, expected a non-negative int64_param.`);
  }
}

/** Reserved keys Triton takes off the request: the typed ones above, and the HTTP side's, whose values are not checked. */
const RESERVED = new Set([...Object.keys(RESERVED_TYPES), 'headers', 'binary_data_output']);
const EMPTY_FINAL = 'triton_enable_empty_final_response';

export function validateRequest(wire: WireRequest, model: ModelDefinition): ValidRequest {
  const id = wire.id;
  const name = model.name;
  const customParameters: Record<string, InferParameter> = {};
  let enableEmptyFinal = false;
  for (const key in wire.parameters) {
    const p = wire.parameters[key]!;
    if (key === EMPTY_FINAL) {
      if (p.boolParam === undefined) throw new SimError(status.INVALID_ARGUMENT, `invalid value type for '${EMPTY_FINAL}' parameter, expected bool_param.`);
      enableEmptyFinal = p.boolParam;
    } else if (key.startsWith('triton_')) {
      throw new SimError(
        status.INVALID_ARGUMENT,
        "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys starting with 'triton_' are allowed: triton_enable_empty_final_response",
      );
    } else if (RESERVED.has(key)) {
      checkReservedType(key, p);
    } else {
      if (p.uint64Param !== undefined) {
        throw new SimError(status.INVALID_ARGUMENT, `invalid value type for '${key}' parameter, expected int64_param, bool_param, or string_param.`);
      }
      customParameters[key] = p;
    }
  }

  for (const t of wire.inputs) {
    if (wire.usedRaw && t.hasContents) {
      throw new SimError(status.INVALID_ARGUMENT, `contents field must not be specified when using raw_input_contents for '${t.name}' for model '${name}'`);
    }
    if (t.raw === undefined) {
      throw new SimError(status.INVALID_ARGUMENT, `unable to find data for input tensor '${t.name}' for model '${name}' in request.`);
    }
  }

  for (const t of wire.inputs) {
    if (!model.inputByName.has(t.name)) throw new SimError(status.INVALID_ARGUMENT, `unexpected inference input '${t.name}' for model '${name}'`);
  }
  checkRequired(wire, model);

  const tensors = new Map<string, TensorData>();
  let batch = -1;
  for (const t of wire.inputs) {
    const def = model.inputByName.get(t.name)!;
    if (t.datatype !== def.datatype) {
      throw new SimError(
        status.INVALID_ARGUMENT,
        `${requestPrefix(id)}inference input '${t.name}' data-type is '${t.datatype}', but model '${name}' expects '${def.datatype}'`,
      );
    }
    checkShape(id, name, model.maxBatchSize, t, def.dims);
    if (model.maxBatchSize > 0) {
      const b = t.shape[0]!;
      if (b > model.maxBatchSize) {
        throw new SimError(status.INVALID_ARGUMENT, `${requestPrefix(id)}inference request batch-size must be <= ${model.maxBatchSize} for '${name}'`);
      }
      if (batch >= 0 && b !== batch) {
        throw new SimError(status.INVALID_ARGUMENT, `${requestPrefix(id)}input '${t.name}' batch size does not match other inputs for '${name}'`);
      }
      batch = b;
    }
    checkByteSize(id, name, t);
    tensors.set(t.name, { datatype: t.datatype, shape: t.shape, raw: t.raw! });
  }

  const requestedOutputs = new Set<string>();
  for (const out of wire.requestedOutputs) {
    if (!model.outputByName.has(out)) throw new SimError(status.INVALID_ARGUMENT, `unexpected inference output '${out}' for model '${name}'`);
    requestedOutputs.add(out);
  }
  return { id, model, tensors, customParameters, enableEmptyFinal, requestedOutputs };
}

function checkRequired(wire: WireRequest, model: ModelDefinition): void {
  const given = new Set(wire.inputs.map((t) => t.name));
  const missing = model.requiredInputs.filter((n) => !given.has(n));
  if (missing.length === 0) return;
  const list = (names: string[]) => `[${names.map((n) => `'${n}'`).join(', ')}]`;
  const min = model.requiredInputs.length;
  const max = model.inputs.length;
  const expected = min === max ? `expected ${min} inputs` : `expected number of inputs between ${min} and ${max}`;
  throw new SimError(
    status.INVALID_ARGUMENT,
    `${requestPrefix(wire.id)}${expected} but got ${wire.inputs.length} inputs for model '${model.name}'. ` +
      `Got input(s) ${list([...given])}, but missing required input(s) ${list(missing)}. Please provide all required input(s).`,
  );
}

const BATCH_NOTE =
  'NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape. ' +
  'If you want to specify the full shape including the batch dim in your input dims config, try setting max_batch_size to zero. ' +
  'See the model configuration docs for more info on max_batch_size.';

function checkShape(id: string, model: string, maxBatchSize: number, t: WireTensor, dims: number[]): void {
  const expected = maxBatchSize > 0 ? [-1, ...dims] : dims;
  let ok = t.shape.length === expected.length;
  for (let i = 0; ok && i < expected.length; i++) {
    const want = expected[i]!;
    const got = t.shape[i]!;
    if (got < 0 || (want !== -1 && want !== got)) ok = false;
  }
  if (ok && maxBatchSize > 0 && t.shape[0]! < 1) ok = false;
  if (ok) return;
  const fmt = (s: readonly number[]) => `[${s.join(',')}]`;
  throw new SimError(
    status.INVALID_ARGUMENT,
    `${requestPrefix(id)}unexpected shape for input '${t.name}' for model '${model}'. Expected ${fmt(expected)}, got ${fmt(t.shape)}. ` +
      (maxBatchSize > 0 ? BATCH_NOTE : ''),
  );
}

function checkByteSize(id: string, model: string, t: WireTensor): void {
  const raw = t.raw!;
  const count = elementCount(t.shape);
  const size = elementSize(t.datatype);
  if (size !== undefined) {
    if (raw.length !== count * size) {
      throw new SimError(
        status.INVALID_ARGUMENT,
        `${requestPrefix(id)}input byte size mismatch for input '${t.name}' for model '${model}'. Expected ${count * size}, got ${raw.length}`,
      );
    }
    return;
  }
  let offset = 0;
  let n = 0;
  while (offset < raw.length) {
    if (offset + 4 > raw.length) {
      throw new SimError(
        status.INVALID_ARGUMENT,
        `${requestPrefix(id)}incomplete string length indicator for inference input '${t.name}' for model '${model}', expecting 4 bytes but only ${raw.length - offset} bytes available.`,
      );
    }
    const len = raw.readUInt32LE(offset);
    offset += 4;
    if (offset + len > raw.length) {
      throw new SimError(
        status.INVALID_ARGUMENT,
        `${requestPrefix(id)}incomplete string for inference input '${t.name}' for model '${model}', expecting string of length ${len} but only ${raw.length - offset} bytes available.`,
      );
    }
    offset += len;
    n++;
  }
  if (n !== count) {
    throw new SimError(
      status.INVALID_ARGUMENT,
      `${requestPrefix(id)}expected ${count} string elements for inference input '${t.name}' for model '${model}', got ${n}`,
    );
  }
}

/** Plain values of request parameters (for recordings and vLLM's parameter fallback). */
export function parameterValue(p: InferParameter): string | number | boolean | undefined {
  return p.boolParam ?? p.int64Param ?? p.stringParam ?? p.doubleParam ?? p.uint64Param;
}

/** Reading decoded inputs of a validated request. */
export class InputReader {
  constructor(private readonly tensors: Map<string, TensorData>) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  values(name: string): TensorValue[] | undefined {
    const t = this.tensors.get(name);
    return t === undefined ? undefined : decodeValues(t.datatype, t.raw);
  }

  first(name: string): TensorValue | undefined {
    return this.values(name)?.[0];
  }

  string(name: string): string | undefined {
    const v = this.first(name);
    return v === undefined ? undefined : String(v);
  }

  number(name: string): number | undefined {
    const v = this.first(name);
    return v === undefined ? undefined : Number(v);
  }

  bool(name: string): boolean | undefined {
    const v = this.first(name);
    return v === undefined ? undefined : Boolean(v);
  }

  strings(name: string): string[] {
    return (this.values(name) ?? []).map(String);
  }
}
