/**
 * A fallback holds a request to its own max_tokens limit, as the primary does: a fallback that
 * clamps serves it with its limit (and the overrun is flagged), one that rejects overruns is
 * passed over. Both got the primary's max_tokens unchecked.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({
    config: {
      resilience: { retry: { maxAttempts: 1 } },
      models: [
        { name: 'big', tritonModel: 'qwen3-vllm', maxTokens: 512, fallbacks: ['small-clamp'] },
        { name: 'big-strict', tritonModel: 'qwen3-vllm', maxTokens: 512, fallbacks: ['small-reject'] },
        { name: 'small-clamp', tritonModel: 'llama-3-8b-trtllm', maxTokens: 8 },
        { name: 'small-reject', tritonModel: 'llama-3-8b-trtllm', maxTokens: 8, tokenBudgetAction: 'reject' },
      ],
    },
  });
});
after(async () => stack.close());

async function complete(model: string, maxTokens: number): Promise<{ status: number; body: any; servedModel: string | null }> {
  const res = await fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': `own-limit-${model}` },
    body: JSON.stringify({ model, prompt: 'hello', max_tokens: maxTokens }),
  });
  return { status: res.status, body: await res.json(), servedModel: res.headers.get('x-served-model') };
}

test("a fallback that clamps serves the request at its own limit, and the overrun is flagged", async () => {
  stack.sim.reset();
  stack.sim.setFault('qwen3-vllm', { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  const res = await complete('big', 300);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.servedModel, 'small-clamp');
  const sent = stack.sim.received().filter((r) => r.model === 'llama-3-8b-trtllm');
  assert.deepEqual(sent.map((r) => r.inputs.max_tokens?.values[0]), [8]);
  assert.equal(res.body.usage.completion_tokens, 8);
  const line = stack.logs.find('request completed').find((l) => l.reqId === 'own-limit-big')!;
  assert.equal(line.token_budget_overrun, true);
  stack.sim.clearFaults();
});

test('a fallback that rejects overruns is passed over, and never sent the request', async () => {
  stack.sim.reset();
  stack.sim.setFault('qwen3-vllm', { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  const res = await complete('big-strict', 300);
  assert.equal(res.status, 503, JSON.stringify(res.body));
  assert.match(res.body.error.message, /small-reject/);
  assert.deepEqual(stack.sim.received().filter((r) => r.model === 'llama-3-8b-trtllm'), []);
  // Within its limit, the same fallback serves.
  const within = await complete('big-strict', 8);
  assert.equal(within.status, 200);
  assert.equal(within.servedModel, 'small-reject');
  stack.sim.clearFaults();
});
