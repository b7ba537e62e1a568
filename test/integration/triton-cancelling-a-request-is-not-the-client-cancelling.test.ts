/**
 * Triton cancelling a request on its own (vLLM's "Request was cancelled", sent while Triton
 * shuts down) reaches a gateway that never cancelled the call: its client is still connected, so
 * the fallback serves it, where it was answered 499 as if the client had left.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { neverOpeningBreakers, receivedFor, startResilienceStack } from '../helpers/resilience-stack.js';

test('a "Request was cancelled" from Triton is served by the fallback, not answered 499', async (t) => {
  const stack = await startResilienceStack({
    config: {
      ...neverOpeningBreakers(),
      models: [
        { name: 'qwen3', tritonModel: 'qwen3-vllm', fallbacks: ['llama-3-8b'] },
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm' },
      ],
    },
  });
  t.after(() => stack.close());
  stack.sim.reset();
  stack.sim.setFault('qwen3-vllm', { kind: 'error', code: 'CANCELLED', message: 'Request was cancelled' });
  const res = await complete(stack.url, { model: 'qwen3', prompt: 'hello', max_tokens: 4 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get('x-served-model'), 'llama-3-8b');
  assert.equal(receivedFor(stack, 'llama-3-8b-trtllm'), 1);
});
