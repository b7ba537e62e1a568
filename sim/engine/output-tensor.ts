/**
 * An output tensor ready for the wire: Triton's gRPC frontend always sends output data in
 * raw_output_contents (one entry per output), never in `contents`, and so does the simulator.
 */
export interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  raw: Buffer;
}

export function bytesRaw(text: string): Buffer {
  const len = Buffer.byteLength(text, 'utf8');
  const buf = Buffer.allocUnsafe(4 + len);
  buf.writeUInt32LE(len, 0);
  buf.write(text, 4, 'utf8');
  return buf;
}

export function int32Raw(n: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf.writeInt32LE(n, 0);
  return buf;
}

export function uint32Raw(n: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf.writeUInt32LE(n, 0);
  return buf;
}

export function int64Raw(n: bigint): Buffer {
  const buf = Buffer.allocUnsafe(8);
  buf.writeBigInt64LE(n, 0);
  return buf;
}

export function fp32Raw(n: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf.writeFloatLE(n, 0);
  return buf;
}
