/**
 * TokenBudgetOverrun and CostPerRequestHigh take increase() of the overrun counters, which cannot
 * see a series that first appears at 1: every model the gateway serves, configured or
 * discovered, has both counters at 0 on /metrics before its first request.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { scrape } from '../helpers/scrape.js';
import { startStack } from '../helpers/stack.js';

const counters = ['token_budget_overruns_total', 'cost_budget_overruns_total'];

function sample(text: string, name: string, model: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(`${name}{model_name="${model}"} `));
}

test('configured models export both overrun counters at 0 from start-up, and count from there', async (t) => {
  const stack = await startStack({
    config: {
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', maxTokens: 8, pricing: { inputPerMillion: 1, outputPerMillion: 3 }, maxCostUsd: 0.000001 },
        { name: 'qwen3', tritonModel: 'qwen3-vllm' },
      ],
    },
  });
  t.after(() => stack.close());

  const before = await scrape(`${stack.url}/metrics`);
  for (const model of ['llama-3-8b', 'qwen3']) {
    for (const name of counters) assert.equal(sample(before.text, name, model), `${name}{model_name="${model}"} 0`, `${name} for ${model}`);
  }

  // The first overrun is now a 0 → 1 step that increase() sees.
  assert.equal((await complete(stack.url, { model: 'llama-3-8b', prompt: 'hello there', max_tokens: 20 })).status, 200);
  const after = await scrape(`${stack.url}/metrics`);
  for (const name of counters) assert.equal(after.value(name, { model_name: 'llama-3-8b' }), 1, name);
  for (const name of counters) assert.equal(after.value(name, { model_name: 'qwen3' }), 0, name);
});

test('discovered models get them too', async (t) => {
  const stack = await startStack({ config: { models: [] } });
  t.after(() => stack.close());
  const served = stack.app.services.registry.list().map((e) => e.config.name);
  assert.ok(served.length > 1, served.join(', '));
  const { text } = await scrape(`${stack.url}/metrics`);
  for (const model of served) {
    for (const name of counters) assert.equal(sample(text, name, model), `${name}{model_name="${model}"} 0`, `${name} for ${model}`);
  }
});
