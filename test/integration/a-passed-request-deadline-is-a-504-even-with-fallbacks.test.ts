/**
 * x-request-timeout-ms bounds the whole request: when it passes while the primary is still
 * working, the fallbacks have no time left either, and the client is told its deadline passed
 * (504 upstream_timeout), not that no upstream could serve it (503).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { primary, receivedFor, secondary, startResilienceStack } from '../helpers/resilience-stack.js';

test('a request deadline that passes on the primary is a 504, and no fallback is called', async (t) => {
  const stack = await startResilienceStack();
  t.after(() => stack.close());
  stack.sim.setFault(primary, { kind: 'slow-first-token', ms: 1000 });
  // 50 ms is below the model's floor for a requested deadline, so the deadline is 100 ms.
  for (const ms of ['200', '50']) {
    stack.sim.reset();
    const res = await complete(stack.url, { model: 'llama-3-8b', prompt: 'in a hurry', max_tokens: 4 }, { 'x-request-timeout-ms': ms });
    assert.equal(res.status, 504, `${ms} ms: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, 'upstream_timeout');
    assert.equal(receivedFor(stack, secondary), 0, 'the fallback had no time left and was not called');
    const line = stack.logs.find('request completed').at(-1)!;
    assert.equal(line.error_code, 'upstream_timeout');
    assert.equal(line.fallback_reason, null, 'no fallback was started');
  }
  assert.equal(stack.logs.find('falling back').length, 0);
});

test('without a request deadline, a primary that times out on its own deadline still falls back', async (t) => {
  const stack = await startResilienceStack();
  t.after(() => stack.close());
  stack.sim.setFault(primary, { kind: 'hang' });
  const res = await complete(stack.url, { model: 'llama-3-8b', prompt: 'patient', max_tokens: 4, stream: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
});
