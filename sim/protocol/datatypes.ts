/**
 * Protocol datatype strings, the config DataType enum and element sizes
 * (shared/triton-protocol.md §2.6).
 */
import { DataType } from '../../src/triton/generated/model_config.js';

const BY_NAME: Record<string, DataType> = {
  BOOL: DataType.TYPE_BOOL,
  UINT8: DataType.TYPE_UINT8,
  UINT16: DataType.TYPE_UINT16,
  UINT32: DataType.TYPE_UINT32,
  UINT64: DataType.TYPE_UINT64,
  INT8: DataType.TYPE_INT8,
  INT16: DataType.TYPE_INT16,
  INT32: DataType.TYPE_INT32,
  INT64: DataType.TYPE_INT64,
  FP16: DataType.TYPE_FP16,
  FP32: DataType.TYPE_FP32,
  FP64: DataType.TYPE_FP64,
  BYTES: DataType.TYPE_STRING,
  BF16: DataType.TYPE_BF16,
};

const SIZES: Record<string, number> = {
  BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8,
  FP16: 2, FP32: 4, FP64: 8, BF16: 2,
};

export function isDatatype(name: string): boolean {
  return name in BY_NAME;
}

export function toConfigDataType(name: string): DataType {
  const t = BY_NAME[name];
  if (t === undefined) throw new Error(`unknown datatype ${name}`);
  return t;
}

/** Bytes per element, or undefined for BYTES (variable length). */
export function elementSize(datatype: string): number | undefined {
  return SIZES[datatype];
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
