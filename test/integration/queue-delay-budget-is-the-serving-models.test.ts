/**
 * The queue a request waited in is the serving engine's, so the queue-delay budget it is held
 * to is the model that answered: a fallback's budget when a fallback served, not the budget of
 * the model the client asked for. The overrun is still counted under the requested model.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const adminToken = 'admin-token-5d1c9e7a3b2f40e8a6c1';
let stack: Stack;

before(async () => {
  stack = await startStack({
    // A few milliseconds in Triton's queue: far over a 1 µs budget.
    sim: { latency: { queueDelayMs: 5 } },
    env: { GATEWAY_ADMIN_TOKEN: adminToken },
    config: {
      models: [
        { name: 'plain', tritonModel: 'llama-3-8b-bls', fallbacks: ['strict-backup'] },
        { name: 'strict-backup', tritonModel: 'llama-3-8b-trtllm', queueDelayBudgetUs: 1 },
        { name: 'strict', tritonModel: 'llama-3-8b-bls', queueDelayBudgetUs: 1, fallbacks: ['plain-backup'] },
        { name: 'plain-backup', tritonModel: 'llama-3-8b-trtllm' },
      ],
    },
  });
  for (const model of ['plain', 'strict']) {
    const res = await fetch(`${stack.url}/admin/models/${model}/force-fallback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'x-actor': 'test', 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true }),
    });
    assert.equal(res.status, 200, await res.text());
  }
});
after(async () => stack.close());

async function lineOf(model: string, requestId: string): Promise<Record<string, unknown>> {
  const res = await complete(stack.url, { model, prompt: 'one two three', max_tokens: 3 }, { 'x-request-id': requestId });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await eventually(() => stack.logs.find('request completed').some((l) => l.reqId === requestId), 2000, 'the completion line');
  return stack.logs.find('request completed').find((l) => l.reqId === requestId)!;
}

test("a fallback with a budget flags the delay even when the requested model has none", async () => {
  const line = await lineOf('plain', 'qd-plain');
  assert.equal(line.served_model, 'strict-backup');
  assert.ok((line.queue_delay_us as number) > 1);
  assert.equal(line.queue_delay_budget_overrun, true);
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(m.value('queue_delay_budget_overruns_total', { model_name: 'plain' }), 1);
});

test("a fallback without a budget is not held to the requested model's", async () => {
  const line = await lineOf('strict', 'qd-strict');
  assert.equal(line.served_model, 'plain-backup');
  assert.ok((line.queue_delay_us as number) > 1);
  assert.equal(line.queue_delay_budget_overrun, false);
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(m.value('queue_delay_budget_overruns_total', { model_name: 'strict' }), 0);
});
