/**
 * `model_inference_duration_seconds` is the time one request spent in Triton calls, and its
 * count is the per-model "requests that reached Triton" of the recording rules. A request the
 * gateway refused first (token budget 400, admission 429, breaker-open 503) adds no sample: a
 * 0 s one would pull the p95 down exactly while the gateway sheds load.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({
    config: {
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', maxTokens: 8, tokenBudgetAction: 'reject' },
        { name: 'qwen3', tritonModel: 'qwen3-vllm' },
        { name: 'solo', tritonModel: 'llama-3-8b-bls' },
      ],
      // One slot and no queue: a second concurrent request is shed at once.
      admission: { maxInFlight: 1, maxQueue: 0 },
      resilience: { breaker: { errorThresholdPercentage: 50, volumeThreshold: 3, resetTimeoutMs: 60_000, rollingWindowMs: 60_000 } },
    },
  });
});
after(async () => {
  await stack.close();
});

async function samples(model: string): Promise<number> {
  return (await scrape(`${stack.url}/metrics`)).value('model_inference_duration_seconds_count', { model_name: model });
}

test('a served request adds one sample; a token-budget 400 adds none', async () => {
  assert.equal((await complete(stack.url, { model: 'llama-3-8b', prompt: 'hello', max_tokens: 4 })).status, 200);
  assert.equal(await samples('llama-3-8b'), 1);
  const refused = await complete(stack.url, { model: 'llama-3-8b', prompt: 'hello', max_tokens: 100 });
  assert.equal(refused.status, 400);
  assert.equal(await samples('llama-3-8b'), 1);
});

test('a request shed by admission (429) adds none', async () => {
  stack.sim.setFault('qwen3-vllm', { kind: 'hang' });
  const holder = new AbortController();
  const holding = fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'qwen3', prompt: 'hold the slot', max_tokens: 4 }),
    signal: holder.signal,
  }).catch((err: unknown) => err);
  await eventually(() => stack.sim.state().models['qwen3-vllm']!.inFlight === 1, 5000, 'the slot holder to reach the simulator');
  try {
    const before = await samples('llama-3-8b');
    const shed = await complete(stack.url, { model: 'llama-3-8b', prompt: 'hello', max_tokens: 4 });
    assert.equal(shed.status, 429);
    assert.equal(await samples('llama-3-8b'), before);
  } finally {
    holder.abort();
    await holding;
    stack.sim.clearFaults();
  }
  // The holder did reach Triton: it has its sample once it is recorded.
  await eventually(async () => (await samples('qwen3')) === 1, 5000, "the slot holder's sample");
});

test('a request refused by an open breaker (503) adds none', async () => {
  stack.sim.setFault('llama-3-8b-bls', { kind: 'error', code: 'UNAVAILABLE', message: 'engine restarting' });
  const breakerOpen = async (): Promise<boolean> =>
    (await scrape(`${stack.url}/metrics`)).value('circuit_breaker_state', { target: 'primary', model: 'llama-3-8b-bls' }) === 2;
  for (let i = 0; i < 5 && !(await breakerOpen()); i += 1) {
    assert.equal((await complete(stack.url, { model: 'solo', prompt: 'hello', max_tokens: 4 })).status >= 500, true);
  }
  assert.ok(await breakerOpen(), 'the breaker opened');
  const before = await samples('solo');
  assert.ok(before > 0, 'the failed calls reached Triton and were timed');
  const received = stack.sim.received().length;
  const rejected = await complete(stack.url, { model: 'solo', prompt: 'hello', max_tokens: 4 });
  assert.equal(rejected.status, 503);
  assert.equal(stack.sim.received().length, received, 'Triton was not called');
  assert.equal(await samples('solo'), before);
  stack.sim.clearFaults();
});
