/**
 * The degraded mode's cached answer (every upstream down) names the model that gave it, in the
 * completion line and the GenAI metrics as in `x-served-model`: not the fallback that just failed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { primary, resilienceConfig, secondary, startResilienceStack } from '../helpers/resilience-stack.js';
import { scrape } from '../helpers/scrape.js';
import type { Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  const base = resilienceConfig().resilience as Record<string, unknown>;
  stack = await startResilienceStack({
    config: { resilience: { ...base, cache: { enabled: true, maxEntries: 10, ttlMs: 60_000 }, breaker: { errorThresholdPercentage: 50, volumeThreshold: 1000, resetTimeoutMs: 400, rollingWindowMs: 5000 } } },
  });
});
after(async () => stack.close());

test("a cached answer of the primary's, served while both models are down, is the primary's in the line and the metrics", async () => {
  const ask = { model: 'llama-3-8b', prompt: 'cache me', max_tokens: 3, temperature: 0 };
  assert.equal((await complete(stack.url, ask)).status, 200);
  stack.sim.setFault(primary, { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  stack.sim.setFault(secondary, { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  const before0 = await scrape(`${stack.url}/metrics`);
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-degraded'), 'cached');
  assert.equal(res.headers.get('x-served-model'), 'llama-3-8b');
  const line = stack.logs.find('request completed').at(-1)!;
  assert.equal(line.served_model, 'llama-3-8b');
  assert.equal(line.error_code, null);
  const after0 = await scrape(`${stack.url}/metrics`);
  const answered = (model: string): number =>
    after0.value('gen_ai_client_operation_duration_seconds_count', { gen_ai_response_model: model, error_type: '' }) -
    before0.value('gen_ai_client_operation_duration_seconds_count', { gen_ai_response_model: model, error_type: '' });
  assert.equal(answered('llama-3-8b'), 1);
  assert.equal(answered('qwen3'), 0, 'the fallback that failed is not counted as having answered');
});
