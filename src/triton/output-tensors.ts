/**
 * Reads scalar-like output tensors from `raw_output_contents` (Triton never fills `contents`),
 * checking that the bytes agree with the declared datatype and shape. Anything that does not
 * is a malformed upstream reply: GatewayError `upstream_bad_response`.
 */
import { GatewayError } from '../errors.js';
import { decodeBytesTensor, decodeSingleString } from './bytes-tensor.js';
import type { ModelInferResponse_InferOutputTensor as OutputTensor } from './generated/grpc_service.js';

export function badResponse(message: string): GatewayError {
  return new GatewayError('upstream_bad_response', `malformed Triton response: ${message}`, { upstreamFault: true });
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Exactly one string (text_output, finish_reason). */
export function readSingleString(out: OutputTensor, raw: Buffer): string {
  if (out.datatype !== 'BYTES') throw badResponse(`output '${out.name}' is ${out.datatype}, expected BYTES`);
  const s = decodeSingleString(raw);
  if (s !== undefined && elementCount(out.shape) === 1) return s;
  let found: number;
  try {
    found = decodeBytesTensor(raw).length;
  } catch (err) {
    throw badResponse(`output '${out.name}': ${(err as Error).message}`);
  }
  if (found !== elementCount(out.shape)) {
    throw badResponse(`output '${out.name}' has ${found} element(s) but shape [${out.shape.join(',')}]`);
  }
  throw badResponse(`expected 1 string in output '${out.name}', found ${found}`);
}

function checkOne(out: OutputTensor, raw: Buffer, size: number): void {
  if (elementCount(out.shape) !== 1) throw badResponse(`output '${out.name}' has shape [${out.shape.join(',')}], expected one element`);
  if (raw.length !== size) throw badResponse(`output '${out.name}' (${out.datatype}) has ${raw.length} bytes, expected ${size}`);
}

/** One integer of any integer datatype (token counts are INT32 on TRT-LLM, UINT32 on vLLM). */
export function readInteger(out: OutputTensor, raw: Buffer): number {
  switch (out.datatype) {
    case 'INT32':
      checkOne(out, raw, 4);
      return raw.readInt32LE(0);
    case 'UINT32':
      checkOne(out, raw, 4);
      return raw.readUInt32LE(0);
    case 'INT64':
      checkOne(out, raw, 8);
      return Number(raw.readBigInt64LE(0));
    case 'UINT64':
      checkOne(out, raw, 8);
      return Number(raw.readBigUInt64LE(0));
    case 'INT16':
      checkOne(out, raw, 2);
      return raw.readInt16LE(0);
    case 'UINT16':
      checkOne(out, raw, 2);
      return raw.readUInt16LE(0);
    case 'INT8':
      checkOne(out, raw, 1);
      return raw.readInt8(0);
    case 'UINT8':
      checkOne(out, raw, 1);
      return raw.readUInt8(0);
    default:
      throw badResponse(`output '${out.name}' is ${out.datatype}, expected an integer type`);
  }
}

/** One 64-bit integer kept exact (nanosecond timestamps). */
export function readBigInteger(out: OutputTensor, raw: Buffer): bigint {
  switch (out.datatype) {
    case 'INT64':
      checkOne(out, raw, 8);
      return raw.readBigInt64LE(0);
    case 'UINT64':
      checkOne(out, raw, 8);
      return raw.readBigUInt64LE(0);
    default:
      return BigInt(readInteger(out, raw));
  }
}

export function readFloat(out: OutputTensor, raw: Buffer): number {
  switch (out.datatype) {
    case 'FP32':
      checkOne(out, raw, 4);
      return raw.readFloatLE(0);
    case 'FP64':
      checkOne(out, raw, 8);
      return raw.readDoubleLE(0);
    default:
      throw badResponse(`output '${out.name}' is ${out.datatype}, expected FP32 or FP64`);
  }
}
