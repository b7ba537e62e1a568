/**
 * Load shedding with @fastify/under-pressure: while the event loop is blocked past its limit,
 * inference requests get 503 + Retry-After at once, health and metrics still answer, and service
 * resumes by itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack } from '../helpers/stack.js';

test('an event loop blocked past its limit sheds inference requests only', async (t) => {
  const stack = await startStack({ config: { loadShedding: { maxEventLoopDelayMs: 30, retryAfterSeconds: 2 } } });
  t.after(() => stack.close());
  const ask = { model: 'qwen3', prompt: 'hi', max_tokens: 1 };
  assert.equal((await complete(stack.url, ask)).status, 200);

  let shed: Awaited<ReturnType<typeof complete>> | undefined;
  const until = Date.now() + 8000;
  while (!shed && Date.now() < until) {
    // Block this process's event loop (the gateway runs in it) well past the 30 ms limit.
    const end = Date.now() + 250;
    while (Date.now() < end) {
      /* busy */
    }
    await new Promise((r) => setTimeout(r, 20));
    const res = await complete(stack.url, ask);
    if (res.status === 503) shed = res;
  }
  assert.ok(shed, 'a request was shed while the loop was blocked');
  assert.equal(shed.body.error.code, 'under_pressure');
  assert.equal(shed.headers.get('retry-after'), '2');
  assert.equal((await fetch(`${stack.url}/livez`)).status, 200);
  const m = await scrape(`${stack.url}/metrics`);
  assert.ok(m.value('requests_shed_total', { reason: 'under_pressure' }) >= 1);
  assert.deepEqual(stack.logs.find('request failed'), [], 'shedding is counted, not logged as a failure with a stack');
  await eventually(async () => (await complete(stack.url, ask)).status === 200, 8000, 'service to resume');
});
