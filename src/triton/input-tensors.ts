/**
 * Builds a request's input tensors in raw form (shared/triton-protocol.md §2.3): one
 * `raw_input_contents` entry per input, in the same order as `inputs`, little-endian, with the
 * datatype and shape the model declared. Values are encoded in the model's own datatype, so a
 * deployment that declares, say, `max_tokens` as INT64 still gets the right bytes.
 */
import { GatewayError } from '../errors.js';
import { encodeBytesElement, encodeBytesTensor } from './bytes-tensor.js';
import type { ModelInferRequest_InferInputTensor } from './generated/grpc_service.js';
import type { ModelSchema, TensorSpec } from './types.js';

export type InputValue = string | number | boolean | readonly string[];

const EMPTY_PARAMS: ModelInferRequest_InferInputTensor['parameters'] = Object.freeze({}) as ModelInferRequest_InferInputTensor['parameters'];

export class InputTensors {
  readonly inputs: ModelInferRequest_InferInputTensor[] = [];
  readonly raw: Buffer[] = [];
  private readonly batched: boolean;

  constructor(private readonly schema: ModelSchema) {
    this.batched = schema.maxBatchSize > 0;
  }

  has(name: string): boolean {
    return this.schema.inputs.has(name);
  }

  /** For inputs the gateway sends on its own account: skipped when the model does not have them. */
  addIfPresent(name: string, value: InputValue): boolean {
    const spec = this.schema.inputs.get(name);
    if (spec === undefined) return false;
    this.push(spec, value, undefined);
    return true;
  }

  /** For inputs the client's request asked for: a model without them is a 400 naming `param`. */
  addRequired(name: string, value: InputValue, param: string): void {
    const spec = this.schema.inputs.get(name);
    if (spec === undefined) {
      throw new GatewayError('unsupported_parameter', `'${param}' is not supported by model '${this.schema.name}' (it has no '${name}' input)`, {
        param,
      });
    }
    this.push(spec, value, param);
  }

  private push(spec: TensorSpec, value: InputValue, param: string | undefined): void {
    const count = typeof value === 'object' ? value.length : 1;
    const raw = encodeValue(spec, value, this.schema.name, param);
    const shape = fitShape(spec, count, this.batched, this.schema.name, param);
    this.inputs.push({ name: spec.name, datatype: spec.datatype, shape, parameters: EMPTY_PARAMS });
    this.raw.push(raw);
  }
}

function mismatch(modelName: string, spec: TensorSpec, what: string, param: string | undefined): GatewayError {
  const message = `model '${modelName}' input '${spec.name}' (${spec.datatype} [${spec.dims.join(',')}]) cannot take ${what}`;
  return param === undefined
    ? new GatewayError('upstream_unimplemented', message)
    : new GatewayError('unsupported_parameter', message, { param });
}

/**
 * The wire shape for `count` elements: config dims with the innermost -1 taking the element
 * count and other -1 dims set to 1, plus a leading batch dim of 1 when the model batches.
 */
function fitShape(spec: TensorSpec, count: number, batched: boolean, modelName = '', param?: string): number[] {
  const dims = spec.dims;
  const shape: number[] = batched ? [1] : [];
  let variable = -1;
  for (let i = dims.length - 1; i >= 0; i--) {
    if (dims[i] === -1) {
      variable = i;
      break;
    }
  }
  let product = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i] as number;
    const v = d === -1 ? (i === variable ? count : 1) : d;
    shape.push(v);
    product *= v;
  }
  if (product !== count) throw mismatch(modelName, spec, `${count} value(s)`, param);
  return shape;
}

function encodeValue(spec: TensorSpec, value: InputValue, modelName: string, param: string | undefined): Buffer {
  if (typeof value === 'string') {
    if (spec.datatype !== 'BYTES') throw mismatch(modelName, spec, 'a string', param);
    return encodeBytesElement(value);
  }
  if (typeof value === 'object') {
    if (spec.datatype !== 'BYTES') throw mismatch(modelName, spec, 'a list of strings', param);
    return encodeBytesTensor(value);
  }
  if (typeof value === 'boolean') {
    if (spec.datatype !== 'BOOL') throw mismatch(modelName, spec, 'a boolean', param);
    const b = Buffer.allocUnsafe(1);
    b[0] = value ? 1 : 0;
    return b;
  }
  return encodeNumber(spec, value, modelName, param);
}

function encodeNumber(spec: TensorSpec, value: number, modelName: string, param: string | undefined): Buffer {
  const dt = spec.datatype;
  if (dt === 'FP32' || dt === 'FP64') {
    const b = Buffer.allocUnsafe(dt === 'FP32' ? 4 : 8);
    if (dt === 'FP32') b.writeFloatLE(value, 0);
    else b.writeDoubleLE(value, 0);
    return b;
  }
  if (!Number.isInteger(value)) throw mismatch(modelName, spec, `the non-integer ${value}`, param);
  try {
    switch (dt) {
      case 'INT32': {
        const b = Buffer.allocUnsafe(4);
        b.writeInt32LE(value, 0);
        return b;
      }
      case 'UINT32': {
        const b = Buffer.allocUnsafe(4);
        b.writeUInt32LE(value, 0);
        return b;
      }
      case 'INT64': {
        const b = Buffer.allocUnsafe(8);
        b.writeBigInt64LE(BigInt(value), 0);
        return b;
      }
      case 'UINT64': {
        const b = Buffer.allocUnsafe(8);
        b.writeBigUInt64LE(BigInt(value), 0);
        return b;
      }
      case 'INT16': {
        const b = Buffer.allocUnsafe(2);
        b.writeInt16LE(value, 0);
        return b;
      }
      case 'UINT16': {
        const b = Buffer.allocUnsafe(2);
        b.writeUInt16LE(value, 0);
        return b;
      }
      case 'INT8': {
        const b = Buffer.allocUnsafe(1);
        b.writeInt8(value, 0);
        return b;
      }
      case 'UINT8': {
        const b = Buffer.allocUnsafe(1);
        b.writeUInt8(value, 0);
        return b;
      }
      default:
        throw mismatch(modelName, spec, 'a number', param);
    }
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    // Buffer's writers throw RangeError for values outside the datatype (e.g. a negative UINT64 seed).
    throw mismatch(modelName, spec, `the value ${value} (out of range)`, param);
  }
}
