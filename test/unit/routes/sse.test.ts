/**
 * The per-stream chunk framer must produce exactly what a full JSON.stringify of each chunk
 * would: the official SDKs parse these bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatContentChunk } from '../../../src/inference/chat-shapes.js';
import { completionChunk } from '../../../src/inference/openai-shapes.js';
import { sseData, textChunkFramer } from '../../../src/routes/sse.js';
import type { FinishReason } from '../../../src/triton/types.js';

const ident = { id: 'cmpl-0123', created: 1_700_000_000, model: 'llama "3" \\ 8b' };
const texts = ['Hello', ' world', 'quote " and backslash \\', 'line\nbreak\ttab', 'ünïcødé 漢字 😀', '\u0000\u001f control', '</script>', ''];
const finishes: Array<FinishReason | null> = [null, 'stop', 'length'];

for (const [name, build] of [
  ['completion chunks', (text: string, finish: FinishReason | null) => completionChunk(ident, text, finish, false)],
  ['completion chunks with usage: null', (text: string, finish: FinishReason | null) => completionChunk(ident, text, finish, true)],
  ['chat chunks (no content field when the text is empty)', (text: string, finish: FinishReason | null) => chatContentChunk(ident, text, finish, true)],
] as const) {
  test(`the framer is byte-identical to JSON.stringify for ${name}`, () => {
    const frame = textChunkFramer(build);
    for (const finish of finishes) {
      for (const text of texts) assert.equal(frame(text, finish), sseData(build(text, finish)), JSON.stringify({ text, finish }));
    }
  });
}

test('a shape where the text is not a plain field falls back to the full rendering', () => {
  const frame = textChunkFramer((text) => ({ a: text, b: text }));
  assert.equal(frame('x', null), sseData({ a: 'x', b: 'x' }));
});
