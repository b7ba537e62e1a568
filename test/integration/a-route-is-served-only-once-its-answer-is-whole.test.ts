/**
 * A route has served a request only once its whole answer is in: a non-streamed answer that
 * fails after its first response (cut short, no final flag) is retried or falls back, and the
 * route that failed is neither counted as a fallback that answered nor named as the one that did.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { neverOpeningBreakers, primary, secondary, startResilienceStack } from '../helpers/resilience-stack.js';
import { scrape } from '../helpers/scrape.js';
import type { Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startResilienceStack({ config: neverOpeningBreakers() });
});
after(async () => stack.close());
beforeEach(() => {
  stack.sim.clearFaults();
  stack.sim.reset();
});

const ask = { model: 'llama-3-8b', prompt: 'hello world', max_tokens: 4, temperature: 0 };

test('a fallback whose first try is cut short and whose retry answers is counted once', async () => {
  stack.sim.setFault(primary, { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  stack.sim.setFault(secondary, { kind: 'no-final', firstN: 1 });
  const before0 = await scrape(`${stack.url}/metrics`);
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
  const after0 = await scrape(`${stack.url}/metrics`);
  assert.equal(after0.value('fallbacks_total') - before0.value('fallbacks_total'), 1, 'one request answered by a fallback counts once');
});

test('when the primary is cut short after its first response and the fallback fails, the model named is the one that failed last', async () => {
  stack.sim.setFault(primary, { kind: 'no-final' });
  stack.sim.setFault(secondary, { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  const before0 = await scrape(`${stack.url}/metrics`);
  const res = await complete(stack.url, ask);
  assert.notEqual(res.status, 200);
  const line = stack.logs.find('request completed').at(-1)!;
  assert.equal(line.served_model, 'qwen3');
  const after0 = await scrape(`${stack.url}/metrics`);
  assert.equal(after0.value('fallbacks_total') - before0.value('fallbacks_total'), 0, 'no fallback answered');
});
