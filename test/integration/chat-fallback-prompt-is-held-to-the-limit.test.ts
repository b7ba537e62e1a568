/**
 * server.maxPromptChars holds for the prompt Triton gets, whichever template rendered it: a
 * fallback whose template makes a conversation longer than the limit (Llama 3.1's dated system
 * block, here) is passed over, where it was sent the over-long prompt.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

const MAX = 300;
let stack: Stack;
before(async () => {
  stack = await startStack({
    config: {
      server: { host: '127.0.0.1', port: 0, maxPromptChars: MAX },
      resilience: { retry: { maxAttempts: 1 } },
      models: [
        { name: 'qwen3', tritonModel: 'qwen3-vllm', maxTokens: 512, chatTemplate: { file: 'examples/chat-templates/chatml.jinja' }, fallbacks: ['llama'] },
        { name: 'llama', tritonModel: 'llama-3-8b-trtllm', maxTokens: 512, chatTemplate: { file: 'examples/chat-templates/llama-3.1.jinja' } },
      ],
    },
  });
});
after(async () => stack.close());

test("a fallback whose template makes the prompt longer than the limit is passed over, not sent it", async () => {
  stack.sim.reset();
  stack.sim.setFault('qwen3-vllm', { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  const content = 'x'.repeat(MAX - 60);
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'qwen3', messages: [{ role: 'user', content }], max_tokens: 4 }),
  });
  const body = (await res.json()) as { error?: { message: string } };
  assert.equal(res.status, 503, JSON.stringify(body));
  assert.match(body.error?.message ?? '', /llama/);
  assert.deepEqual(stack.sim.received().filter((r) => r.model === 'llama-3-8b-trtllm'), [], 'the fallback never got the over-long prompt');
  // The same conversation fits ChatML: with the primary back, it is served.
  stack.sim.clearFaults();
  const served = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'qwen3', messages: [{ role: 'user', content }], max_tokens: 4 }),
  });
  assert.equal(served.status, 200);
});
