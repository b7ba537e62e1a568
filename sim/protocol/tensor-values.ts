/**
 * Converting tensor data between raw little-endian bytes, InferTensorContents and plain JS values.
 * Requests arrive in either form; the simulator normalises to raw bytes (one code path) and
 * decodes values only where a model reads them or a test asks for the recording.
 */
import type { InferTensorContents } from '../../src/triton/generated/grpc_service.js';
import { decodeBytesTensor, encodeBytesTensor } from '../../src/triton/bytes-tensor.js';
import { elementSize } from './datatypes.js';

export type TensorValue = string | number | boolean;

/** Raw bytes from `contents`, or undefined when the field for this datatype is empty. */
export function contentsToRaw(datatype: string, c: InferTensorContents): Buffer | undefined {
  switch (datatype) {
    case 'BYTES':
      return c.bytesContents.length > 0 ? encodeBytesTensor(c.bytesContents) : undefined;
    case 'BOOL':
      return c.boolContents.length > 0 ? Buffer.from(c.boolContents.map((b) => (b ? 1 : 0))) : undefined;
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return c.intContents.length > 0 ? encodeValues(datatype, c.intContents) : undefined;
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return c.uintContents.length > 0 ? encodeValues(datatype, c.uintContents) : undefined;
    case 'INT64':
      return c.int64Contents.length > 0 ? encodeValues(datatype, c.int64Contents) : undefined;
    case 'UINT64':
      return c.uint64Contents.length > 0 ? encodeValues(datatype, c.uint64Contents) : undefined;
    case 'FP32':
      return c.fp32Contents.length > 0 ? encodeValues(datatype, c.fp32Contents) : undefined;
    case 'FP64':
      return c.fp64Contents.length > 0 ? encodeValues(datatype, c.fp64Contents) : undefined;
    default:
      return undefined;
  }
}

/** True when any typed field of `contents` holds data. */
export function contentsHasData(c: InferTensorContents | undefined): boolean {
  if (c === undefined) return false;
  return (
    c.boolContents.length + c.intContents.length + c.int64Contents.length + c.uintContents.length +
      c.uint64Contents.length + c.fp32Contents.length + c.fp64Contents.length + c.bytesContents.length >
    0
  );
}

export function encodeValues(datatype: string, values: ReadonlyArray<TensorValue>): Buffer {
  if (datatype === 'BYTES') return encodeBytesTensor(values.map((v) => String(v)));
  const size = elementSize(datatype);
  if (size === undefined) throw new Error(`cannot encode ${datatype}`);
  const out = Buffer.alloc(values.length * size);
  values.forEach((v, i) => writeOne(out, datatype, i * size, v));
  return out;
}

export function decodeValues(datatype: string, raw: Buffer): TensorValue[] {
  if (datatype === 'BYTES') return decodeBytesTensor(raw).map((b) => b.toString('utf8'));
  const size = elementSize(datatype);
  if (size === undefined) return [];
  const out: TensorValue[] = [];
  for (let off = 0; off + size <= raw.length; off += size) out.push(readOne(raw, datatype, off));
  return out;
}

function writeOne(buf: Buffer, datatype: string, off: number, v: TensorValue): void {
  const n = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
  switch (datatype) {
    case 'BOOL': buf.writeUInt8(n ? 1 : 0, off); break;
    case 'UINT8': buf.writeUInt8(n, off); break;
    case 'UINT16': buf.writeUInt16LE(n, off); break;
    case 'UINT32': buf.writeUInt32LE(n, off); break;
    case 'UINT64': buf.writeBigUInt64LE(BigInt(Math.trunc(n)), off); break;
    case 'INT8': buf.writeInt8(n, off); break;
    case 'INT16': buf.writeInt16LE(n, off); break;
    case 'INT32': buf.writeInt32LE(n, off); break;
    case 'INT64': buf.writeBigInt64LE(BigInt(Math.trunc(n)), off); break;
    case 'FP32': buf.writeFloatLE(n, off); break;
    case 'FP64': buf.writeDoubleLE(n, off); break;
    case 'FP16': buf.writeUInt16LE(toHalf(n), off); break;
    case 'BF16': buf.writeUInt16LE(toBf16(n), off); break;
  }
}

function readOne(buf: Buffer, datatype: string, off: number): TensorValue {
  switch (datatype) {
    case 'BOOL': return buf.readUInt8(off) !== 0;
    case 'UINT8': return buf.readUInt8(off);
    case 'UINT16': return buf.readUInt16LE(off);
    case 'UINT32': return buf.readUInt32LE(off);
    case 'UINT64': return Number(buf.readBigUInt64LE(off));
    case 'INT8': return buf.readInt8(off);
    case 'INT16': return buf.readInt16LE(off);
    case 'INT32': return buf.readInt32LE(off);
    case 'INT64': return Number(buf.readBigInt64LE(off));
    case 'FP32': return buf.readFloatLE(off);
    case 'FP64': return buf.readDoubleLE(off);
    case 'FP16': return fromHalf(buf.readUInt16LE(off));
    case 'BF16': return fromBf16(buf.readUInt16LE(off));
    default: return 0;
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toBf16(n: number): number {
  f32[0] = n;
  return u32[0]! >>> 16;
}

function fromBf16(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}

function toHalf(n: number): number {
  f32[0] = n;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | (mant >>> 13);
}

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}
