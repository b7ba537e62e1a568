/**
 * A streamed chat answer opens as OpenAI's does: a first chunk whose delta is exactly
 * `{"role":"assistant","content":""}` with no finish reason. Clients that append
 * `delta.content` from the first chunk on (or read the role only there) depend on both fields.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({
    config: { models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', chatTemplate: { file: 'examples/chat-templates/llama-3.jinja' } }] },
  });
});
after(async () => stack.close());

async function chunks(body: Record<string, unknown>): Promise<Array<Record<string, any>>> {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, stream: true, ...body }),
  });
  assert.equal(res.status, 200);
  const raw = await res.text();
  assert.ok(raw.endsWith('data: [DONE]\n\n'));
  return raw
    .split('\n\n')
    .filter((block) => block.startsWith('data: {'))
    .map((block) => JSON.parse(block.slice('data: '.length)) as Record<string, any>);
}

test('the first chunk carries the role and an empty content, and nothing after it repeats the role', async () => {
  for (const include_usage of [false, true]) {
    const all = await chunks(include_usage ? { stream_options: { include_usage } } : {});
    const [first, ...rest] = all;
    assert.deepEqual(first!.choices, [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }]);
    assert.equal(first!.object, 'chat.completion.chunk');
    assert.ok(rest.every((c) => c.choices.every((choice: { delta: object }) => !('role' in choice.delta))));
  }
});
