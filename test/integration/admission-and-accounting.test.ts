/**
 * 13. The gateway's own queue full → 429 with Retry-After. 14. A client disconnect cancels
 * upstream and leaves the breaker alone. 16. After a mixed run, counts, fallbacks, tokens and
 * cost in /metrics match the tally kept by the client.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { complete, completeStream } from '../helpers/openai-http.js';
import { primary, resilienceConfig, startResilienceStack } from '../helpers/resilience-stack.js';
import { scrape } from '../helpers/scrape.js';
import { eventually } from '../helpers/stack.js';

test('13. a full admission queue answers 429 with Retry-After', async (t) => {
  const stack = await startResilienceStack({ config: { admission: { maxInFlight: 1, maxQueue: 1, queueTimeoutMs: 5000 } } });
  t.after(() => stack.close());
  stack.sim.setFault(primary, { kind: 'slow-first-token', ms: 250 });
  const first = complete(stack.url, { model: 'llama-3-8b', prompt: 'slow one', max_tokens: 2 });
  await eventually(() => stack.app.services.admission.state.inFlight === 1, 2000, 'the first request to hold the slot');
  const queued = complete(stack.url, { model: 'llama-3-8b', prompt: 'queued one', max_tokens: 2 });
  await eventually(() => stack.app.services.admission.state.queued === 1, 2000, 'the second to queue');
  const refused = await complete(stack.url, { model: 'llama-3-8b', prompt: 'refused', max_tokens: 2 });
  assert.equal(refused.status, 429);
  assert.equal(refused.body.error.code, 'overloaded');
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal((await first).status, 200);
  assert.equal((await queued).status, 200);
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(m.value('requests_shed_total', { reason: 'queue_full' }), 1);
  assert.equal(m.value('active_requests'), 0);
  assert.equal(m.value('request_queue_depth'), 0);
});

test('x-request-timeout-ms bounds the whole request: a request still queued at its deadline gets 504', async (t) => {
  const stack = await startResilienceStack({ config: { admission: { maxInFlight: 1, maxQueue: 4, queueTimeoutMs: 10_000 } } });
  t.after(() => stack.close());
  stack.sim.setFault(primary, { kind: 'slow-first-token', ms: 3000 });
  let firstDone = false;
  const first = complete(stack.url, { model: 'llama-3-8b', prompt: 'slow one', max_tokens: 2 }).finally(() => (firstDone = true));
  await eventually(() => stack.app.services.admission.state.inFlight === 1, 2000, 'the first request to hold the slot');
  const late = await complete(stack.url, { model: 'llama-3-8b', prompt: 'in a hurry', max_tokens: 2 }, { 'x-request-timeout-ms': '300' });
  assert.equal(late.status, 504, JSON.stringify(late.body));
  assert.equal(late.body.error.code, 'upstream_timeout');
  // Answered at its own deadline while the slot was still taken, not after waiting for it.
  assert.equal(firstDone, false);
  assert.equal((await first).status, 200);
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(m.value('requests_shed_total', { reason: 'queue_timeout' }), 0);
});

test('14. a client disconnect cancels upstream and leaves the breaker unchanged', async (t) => {
  const stack = await startResilienceStack();
  t.after(() => stack.close());
  stack.sim.setFault(primary, { kind: 'slow-tokens', msPerToken: 40 });
  for (let i = 0; i < 4; i += 1) {
    const controller = new AbortController();
    const res = await fetch(`${stack.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama-3-8b', prompt: 'long', max_tokens: 100, stream: true }),
      signal: controller.signal,
    });
    await res.body!.getReader().read();
    controller.abort();
  }
  await eventually(() => stack.sim.state().models[primary]!.cancellations === 4, 3000, 'four cancels');
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(m.value('circuit_breaker_state', { model: primary }), 0);
  assert.equal(m.value('circuit_breaker_transitions_total'), 0);
  assert.equal(m.value('streams_aborted_total', { phase: 'client_disconnect' }), 4);
});

test('16. metrics match the client tally after a mixed run', async (t) => {
  const base = resilienceConfig();
  const stack = await startResilienceStack({
    config: { resilience: { ...(base.resilience as object), breaker: { errorThresholdPercentage: 50, volumeThreshold: 1000, resetTimeoutMs: 400, rollingWindowMs: 5000 } } },
  });
  t.after(() => stack.close());
  const tally = { ok: 0, badRequest: 0, fallbacks: 0, tokensIn: new Map<string, number>(), tokensOut: new Map<string, number>(), cost: new Map<string, number>() };
  const prices: Record<string, [number, number]> = { 'llama-3-8b': [1, 2], qwen3: [0.5, 1] };
  const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);

  for (let i = 0; i < 24; i += 1) {
    const model = i % 3 === 0 ? 'qwen3' : 'llama-3-8b';
    if (i === 6) stack.sim.setFault(primary, { kind: 'error', code: 'UNAVAILABLE', message: 'down', firstN: 4 });
    const stream = i % 2 === 0;
    const body = { model, prompt: `question number ${i}`, max_tokens: 3 + (i % 5), temperature: 0 };
    if (i % 7 === 5) {
      const bad = await complete(stack.url, { ...body, temperature: 5 });
      assert.equal(bad.status, 400);
      tally.badRequest += 1;
      continue;
    }
    let usage: { prompt_tokens: number; completion_tokens: number };
    let served: string;
    if (stream) {
      const res = await completeStream(stack.url, { ...body, stream_options: { include_usage: true } });
      assert.equal(res.status, 200);
      usage = res.events.find((e) => e.data?.usage)!.data.usage;
      if (res.headers.get('x-fallback-reason')) tally.fallbacks += 1;
      served = res.headers.get('x-served-model')!;
    } else {
      const res = await complete(stack.url, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      usage = res.body.usage;
      if (res.headers.get('x-fallback-reason')) tally.fallbacks += 1;
      served = res.headers.get('x-served-model')!;
    }
    tally.ok += 1;
    add(tally.tokensIn, model, usage.prompt_tokens);
    add(tally.tokensOut, model, usage.completion_tokens);
    // Priced at the rates of the model that answered; counted under the model asked for.
    const [pin, pout] = prices[served]!;
    add(tally.cost, model, (usage.prompt_tokens * pin + usage.completion_tokens * pout) / 1e6);
  }
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(m.value('http_requests_total', { endpoint: '/v1/completions', status: '200' }), tally.ok);
  assert.equal(m.value('http_requests_total', { endpoint: '/v1/completions', status: '400' }), tally.badRequest);
  assert.equal(m.value('errors_total', { endpoint: '/v1/completions', error_type: 'invalid_request' }), tally.badRequest);
  assert.ok(tally.fallbacks >= 1);
  assert.equal(m.value('fallbacks_total'), tally.fallbacks);
  for (const model of ['llama-3-8b', 'qwen3']) {
    assert.equal(m.value('tokens_input_total', { model_name: model }), tally.tokensIn.get(model));
    assert.equal(m.value('tokens_generated_total', { model_name: model }), tally.tokensOut.get(model));
    assert.ok(Math.abs(m.value('cost_usd_total', { model_name: model }) - tally.cost.get(model)!) < 1e-12);
  }
});
