/**
 * A client that hangs up while the router waits out a retry's backoff is a 499 client_cancelled,
 * recorded when it leaves: not the upstream failure that led to the retry (which would count
 * against Triton, feed StreamAbortsHigh and start a fallback), and not after the backoff.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({
    config: {
      // A backoff far longer than the wait for the completion line below.
      resilience: { retry: { maxAttempts: 2, baseDelayMs: 20_000, maxDelayMs: 20_000, budgetRatio: 1, budgetMinPerWindow: 100, budgetWindowMs: 10_000 } },
    },
  });
});
after(async () => stack.close());

test('a client gone during the retry backoff is recorded at once as client_cancelled, not as the upstream failure', async (t) => {
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  const before0 = await scrape(`${stack.url}/metrics`);
  const reached = stack.sim.received().length;
  // The backoff is full jitter, Math.random() times 20 s: pinned near its top so that the client
  // surely leaves inside it (the gateway runs in this process).
  const random = Math.random;
  Math.random = () => 0.99;
  t.after(() => {
    Math.random = random;
  });
  const controller = new AbortController();
  const pending = fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'gone-in-backoff' },
    body: JSON.stringify({ model: 'llama-3-8b', prompt: 'hello', max_tokens: 4, stream: true }),
    signal: controller.signal,
  }).catch((e: unknown) => e);
  await eventually(() => stack.sim.received().length > reached, 5000, 'the first attempt to reach the simulator');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(stack.sim.received().length, reached + 1, 'one attempt so far: the router is in its backoff');
  controller.abort();
  await pending;
  await eventually(() => stack.logs.find('request completed').some((l) => l.reqId === 'gone-in-backoff'), 5000, 'the completion line, long before the backoff ends');
  const line = stack.logs.find('request completed').find((l) => l.reqId === 'gone-in-backoff')!;
  assert.equal(line.status, 499);
  assert.equal(line.error_code, 'client_cancelled');
  assert.equal(line.fallback_reason ?? undefined, undefined);
  const after0 = await scrape(`${stack.url}/metrics`);
  const delta = (name: string, labels: Record<string, string>): number => after0.value(name, labels) - before0.value(name, labels);
  assert.equal(delta('streams_aborted_total', { model_name: 'llama-3-8b', phase: 'before_first_byte' }), 0, 'a client hanging up is not a server-side stream abort');
  assert.equal(stack.sim.received().length, reached + 1, 'no second attempt after the client left');
});
