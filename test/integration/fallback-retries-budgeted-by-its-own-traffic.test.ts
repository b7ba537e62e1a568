/**
 * The retry budget allows retries as a share of a route's recent requests, and retries are
 * charged to the route that retries. Traffic a fallback takes over must therefore count as that
 * fallback's requests, or during a failover its retries are capped at `budgetMinPerWindow`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { scrape } from '../helpers/scrape.js';
import { startStack, type Stack } from '../helpers/stack.js';

const fallbackModel = 'qwen3-vllm';
let stack: Stack;
before(async () => {
  stack = await startStack({
    config: {
      models: [
        { name: 'main', tritonModel: 'llama-3-8b-trtllm', fallbacks: ['backup'] },
        { name: 'backup', tritonModel: fallbackModel },
      ],
      resilience: {
        // The breaker stays out of the way; every request may retry once (ratio 1).
        breaker: { errorThresholdPercentage: 100, volumeThreshold: 1000, resetTimeoutMs: 400, rollingWindowMs: 5000 },
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, budgetRatio: 1, budgetMinPerWindow: 1, budgetWindowMs: 60_000 },
      },
    },
  });
});
after(async () => stack.close());

test("a fallback serving a forced failover retries within its own traffic's budget", async () => {
  stack.app.services.registry.get('main')!.forceFallback = true;
  // About half of the fallback's calls fail once with a retryable error.
  stack.sim.setFault(fallbackModel, { kind: 'error', code: 'UNAVAILABLE', message: 'blip', fraction: 0.5, seed: 1 });
  const statuses: number[] = [];
  for (let i = 0; i < 20; i += 1) statuses.push((await complete(stack.url, { model: 'main', prompt: 'hi', max_tokens: 2 })).status);
  const m = await scrape(`${stack.url}/metrics`);
  // A backend's error arrives inside the stream (error_message), which maps to upstream_internal.
  const retries = m.value('retries_total', { model_name: 'main', reason: 'upstream_unavailable' }) + m.value('retries_total', { model_name: 'main', reason: 'upstream_internal' });
  assert.ok(retries > 1, `retries: ${retries}`);
  assert.equal(m.value('retry_budget_exhausted_total', { model_name: 'main' }), 0, `statuses ${statuses.join(',')}`);
});
