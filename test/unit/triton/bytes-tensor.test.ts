import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeBytesTensor,
  decodeSingleString,
  decodeStringTensor,
  encodeBytesElement,
  encodeBytesTensor,
} from '../../../src/triton/bytes-tensor.js';

describe('BYTES tensor layout', () => {
  it('encodes one element as a 4-byte little-endian length and the bytes', () => {
    assert.deepEqual([...encodeBytesTensor(['hi'])], [2, 0, 0, 0, 0x68, 0x69]);
    assert.deepEqual(encodeBytesElement('hi'), encodeBytesTensor(['hi']));
  });

  it('encodes the empty string as a zero length and nothing else', () => {
    assert.deepEqual([...encodeBytesTensor([''])], [0, 0, 0, 0]);
    assert.deepEqual([...encodeBytesElement('')], [0, 0, 0, 0]);
    assert.deepEqual(decodeStringTensor(Buffer.from([0, 0, 0, 0])), ['']);
    assert.equal(decodeSingleString(Buffer.from([0, 0, 0, 0])), '');
  });

  it('counts UTF-8 bytes, not UTF-16 code units, for multi-byte text', () => {
    const text = 'héllo 世界 🚀';
    const byteLength = Buffer.byteLength(text, 'utf8');
    assert.equal(byteLength, 18); // h é(2) llo space 世界(6) space 🚀(4)
    assert.equal(text.length, 11);
    const raw = encodeBytesElement(text);
    assert.equal(raw.readUInt32LE(0), 18);
    assert.equal(raw.length, 4 + 18);
    assert.deepEqual(raw.subarray(4), Buffer.from(text, 'utf8'));
    assert.equal(decodeSingleString(raw), text);
    assert.deepEqual(decodeStringTensor(encodeBytesTensor([text])), [text]);
  });

  it('concatenates several elements with no terminator', () => {
    const raw = encodeBytesTensor(['a', '', 'bc']);
    assert.deepEqual([...raw], [1, 0, 0, 0, 0x61, 0, 0, 0, 0, 2, 0, 0, 0, 0x62, 0x63]);
    assert.deepEqual(decodeStringTensor(raw), ['a', '', 'bc']);
    // Not exactly one element: the single-string reader declines.
    assert.equal(decodeSingleString(raw), undefined);
  });

  it('round-trips binary elements', () => {
    const bin = Uint8Array.from([0, 255, 1]);
    const [back] = decodeBytesTensor(encodeBytesTensor([bin]));
    assert.deepEqual([...back!], [0, 255, 1]);
  });

  it('decodes an empty buffer as no elements', () => {
    assert.deepEqual(decodeStringTensor(Buffer.alloc(0)), []);
    assert.equal(decodeSingleString(Buffer.alloc(0)), undefined);
  });

  it('throws on a truncated length prefix', () => {
    assert.throws(() => decodeBytesTensor(Buffer.from([5, 0])), RangeError);
  });

  it('throws on an element longer than the remaining bytes', () => {
    assert.throws(() => decodeBytesTensor(Buffer.from([5, 0, 0, 0, 0x61, 0x62])), /truncated/);
    assert.equal(decodeSingleString(Buffer.from([5, 0, 0, 0, 0x61, 0x62])), undefined);
  });

  it('reads from a Uint8Array view with an offset', () => {
    const backing = new Uint8Array([9, 9, 2, 0, 0, 0, 0x6f, 0x6b]);
    const view = backing.subarray(2);
    assert.deepEqual(decodeStringTensor(view), ['ok']);
    assert.equal(decodeSingleString(view), 'ok');
  });
});
