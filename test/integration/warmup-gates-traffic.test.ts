/**
 * A model whose warm-up fails stays out of traffic and keeps the strict /readyz not ready (the
 * replica itself stays ready: another model serves); once the fault is cleared the retry with
 * backoff brings it in.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({
    sim: {
      models: [
        { name: 'llama-3-8b-trtllm', flavour: 'ensemble' },
        { name: 'qwen3-vllm', flavour: 'vllm', fault: { kind: 'error', code: 'INTERNAL', message: 'engine not loaded' } },
      ],
    },
    config: { triton: { warmupRetryMaxMs: 400 } },
    waitReady: false,
  });
});
after(async () => stack.close());

async function complete(model: string): Promise<Response> {
  return fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: 'hi', max_tokens: 2 }),
  });
}

test('a failing warm-up keeps the model out until the fault clears', async () => {
  const entry = stack.app.services.registry.get('qwen3')!;
  await eventually(() => entry.state === 'warmup_failed', 5000, 'the warm-up to fail');
  assert.match(entry.lastError ?? '', /engine not loaded/);
  // The healthy model is served meanwhile.
  await eventually(() => stack.app.services.registry.get('llama-3-8b')!.state === 'ready', 5000, 'llama-3-8b ready');
  assert.equal((await complete('llama-3-8b')).status, 200);

  const strict = await fetch(`${stack.url}/readyz?strict=1`);
  assert.equal(strict.status, 503);
  const body = (await strict.json()) as { reasons: string[] };
  assert.ok(body.reasons.some((r) => r.includes('qwen3') && r.includes('warmup_failed')), body.reasons.join('; '));
  assert.equal((await fetch(`${stack.url}/readyz`)).status, 200, 'the replica still takes traffic for llama-3-8b');

  const refused = await complete('qwen3');
  assert.equal(refused.status, 503);
  assert.ok(refused.headers.get('retry-after'));
  const warmups = stack.sim.received().filter((r) => r.model === 'qwen3-vllm').length;
  assert.ok(warmups >= 1);
  // Retried with backoff while failing.
  await eventually(() => stack.sim.received().filter((r) => r.model === 'qwen3-vllm').length > warmups, 5000, 'a warm-up retry');

  stack.sim.clearFaults();
  await eventually(async () => (await fetch(`${stack.url}/readyz?strict=1`)).status === 200, 10_000, 'the strict /readyz to turn ready');
  assert.equal(entry.state, 'ready');
  assert.equal((await complete('qwen3')).status, 200);
});
