/**
 * Triton's raw BYTES layout (shared/triton-protocol.md §2.3): each element is a 4-byte
 * little-endian unsigned length followed by that many bytes, concatenated, no terminator.
 * Used both by the gateway's codec and by the simulator, so both sides agree by construction
 * and the unit tests pin the layout byte for byte.
 */

export function encodeBytesTensor(elements: ReadonlyArray<string | Uint8Array>): Buffer {
  const parts = elements.map((e) => (typeof e === 'string' ? Buffer.from(e, 'utf8') : Buffer.from(e)));
  const total = parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const part of parts) {
    out.writeUInt32LE(part.length, offset);
    offset += 4;
    part.copy(out, offset);
    offset += part.length;
  }
  return out;
}

/** A one-element BYTES tensor (the common case: a prompt) without encodeBytesTensor's intermediate arrays. */
export function encodeBytesElement(s: string): Buffer {
  const len = Buffer.byteLength(s, 'utf8');
  const out = Buffer.allocUnsafe(4 + len);
  out.writeUInt32LE(len, 0);
  out.write(s, 4, len, 'utf8');
  return out;
}

/**
 * The string of a BYTES tensor that holds exactly one element, or undefined when it holds
 * any other number of elements or is truncated (callers then fall back to decodeBytesTensor).
 */
export function decodeSingleString(raw: Uint8Array): string | undefined {
  if (raw.length < 4) return undefined;
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const len = buf.readUInt32LE(0);
  if (4 + len !== buf.length) return undefined;
  return buf.toString('utf8', 4, 4 + len);
}

/** Splits a raw BYTES tensor into its elements; throws on a truncated buffer. */
export function decodeBytesTensor(raw: Uint8Array): Buffer[] {
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (offset + 4 > buf.length) throw new RangeError(`BYTES tensor truncated: length prefix at ${offset} of ${buf.length}`);
    const len = buf.readUInt32LE(offset);
    offset += 4;
    if (offset + len > buf.length) throw new RangeError(`BYTES tensor truncated: element of ${len} bytes at ${offset} of ${buf.length}`);
    out.push(buf.subarray(offset, offset + len));
    offset += len;
  }
  return out;
}

export function decodeStringTensor(raw: Uint8Array): string[] {
  return decodeBytesTensor(raw).map((b) => b.toString('utf8'));
}
