/**
 * Failures before the first byte: retried when worth it, then served by the fallback, or an
 * honest error when there is none — and client errors are never retried nor counted.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { complete, completeStream } from '../helpers/openai-http.js';
import { primary, receivedFor, resilienceConfig, secondary, startResilienceStack } from '../helpers/resilience-stack.js';
import { scrape } from '../helpers/scrape.js';
import type { Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  // Breakers stay out of these scenarios (their lifecycle has its own file): a high volume threshold.
  const base = resilienceConfig();
  stack = await startResilienceStack({
    config: { resilience: { ...(base.resilience as object), breaker: { errorThresholdPercentage: 50, volumeThreshold: 1000, resetTimeoutMs: 400, rollingWindowMs: 5000 } } },
  });
});
after(async () => stack.close());
beforeEach(() => {
  stack.sim.clearFaults();
  stack.sim.reset();
});

const ask = { model: 'llama-3-8b', prompt: 'hello world', max_tokens: 4, temperature: 0 };

test('1. a full Triton queue is retried, then the fallback serves', async () => {
  const m0 = await scrape(`${stack.url}/metrics`);
  stack.sim.setFault(primary, { kind: 'queue-full' });
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
  assert.equal(res.headers.get('x-fallback-reason'), 'upstream_error');
  assert.equal(res.body.model, 'qwen3');
  assert.equal(receivedFor(stack, primary), 2, 'one try and one retry on the primary');
  assert.equal(receivedFor(stack, secondary), 1);
  const m1 = await scrape(`${stack.url}/metrics`);
  assert.equal(m1.value('retries_total', { model_name: 'llama-3-8b', reason: 'upstream_overloaded' }) - m0.value('retries_total', { model_name: 'llama-3-8b', reason: 'upstream_overloaded' }), 1);
  assert.equal(m1.value('fallbacks_total', { model_name: 'llama-3-8b', served_model: 'qwen3', reason: 'upstream_error' }) - m0.value('fallbacks_total', { model_name: 'llama-3-8b', served_model: 'qwen3', reason: 'upstream_error' }), 1);
  // Both failed attempts are counted where on-call looks, though the answer succeeded.
  const failedAttempts = { model_name: 'llama-3-8b', served_model: 'llama-3-8b', error_code: 'upstream_overloaded' };
  assert.equal(m1.value('upstream_errors_total', failedAttempts) - m0.value('upstream_errors_total', failedAttempts), 2);
  assert.equal(m1.value('upstream_errors_total', { served_model: 'qwen3' }), 0, 'the fallback did not fail');
  assert.equal(m1.value('errors_total') - m0.value('errors_total'), 0, 'no answer failed');
});

test('a fallback that fails too is not counted as a fallback that served', async () => {
  const m0 = await scrape(`${stack.url}/metrics`);
  const down = { kind: 'error', code: 'UNAVAILABLE', message: 'engine restarting' } as const;
  stack.sim.setFault(primary, down);
  stack.sim.setFault(secondary, down);
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 503, JSON.stringify(res.body));
  assert.equal(receivedFor(stack, secondary) > 0, true, 'the fallback was tried');
  const m1 = await scrape(`${stack.url}/metrics`);
  assert.equal(m1.value('fallbacks_total') - m0.value('fallbacks_total'), 0);
  const failedOperation = { gen_ai_request_model: 'llama-3-8b', error_type: 'all_upstreams_unavailable' };
  assert.equal(m1.value('gen_ai_client_operation_duration_seconds_count', failedOperation) - m0.value('gen_ai_client_operation_duration_seconds_count', failedOperation), 1, 'the failed operation is labelled with its error');
  assert.ok(m1.value('upstream_errors_total', { served_model: 'qwen3' }) > m0.value('upstream_errors_total', { served_model: 'qwen3' }), "the fallback's failure is counted where failures are");
  // Its completion line names the model whose failure ended it, the fallback.
  const line = stack.logs.find('request completed').at(-1)!;
  assert.deepEqual([line.model, line.served_model, line.error_code], ['llama-3-8b', 'qwen3', 'all_upstreams_unavailable']);
});

test("a fallback's answer names the fallback's engine and is priced at its rates in its completion line", async () => {
  const engineOf = async (model: string): Promise<unknown> => {
    assert.equal((await complete(stack.url, { ...ask, model })).status, 200);
    return stack.logs.find('request completed').at(-1)!.engine_hash;
  };
  const [llama, qwen] = [await engineOf('llama-3-8b'), await engineOf('qwen3')];
  assert.notEqual(llama, qwen, 'the two models run different engines');
  stack.sim.setFault(primary, { kind: 'error', code: 'UNAVAILABLE', message: 'engine restarting' });
  const answeredBy = { gen_ai_request_model: 'llama-3-8b', gen_ai_response_model: 'qwen3', error_type: '' };
  const m0 = await scrape(`${stack.url}/metrics`);
  const res = await complete(stack.url, ask);
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
  const m1 = await scrape(`${stack.url}/metrics`);
  const count = 'gen_ai_client_operation_duration_seconds_count';
  assert.equal(m1.value(count, answeredBy) - m0.value(count, answeredBy), 1, 'the GenAI response model is the one that answered');
  const line = stack.logs.find('request completed').at(-1)!;
  assert.equal(line.model, 'llama-3-8b');
  assert.equal(line.served_model, 'qwen3');
  assert.equal(line.engine_hash, qwen);
  // Priced at the fallback's rates (qwen3: 0.5 and 1 per million), not the primary's (1 and 2).
  const [tokensIn, tokensOut] = [line.tokens_in as number, line.tokens_out as number];
  assert.ok(Math.abs((line.cost_usd as number) - (tokensIn * 0.5 + tokensOut * 1) / 1e6) < 1e-12, `cost ${line.cost_usd} for ${tokensIn} in, ${tokensOut} out`);
});

test('3. a one-off INTERNAL is retried transparently', async () => {
  stack.sim.setFault(primary, { kind: 'error', code: 'INTERNAL', message: 'transient executor hiccup', firstN: 1 });
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-served-model'), 'llama-3-8b');
  assert.equal(res.headers.get('x-fallback-reason'), null);
  assert.equal(receivedFor(stack, primary), 2);
  assert.equal(receivedFor(stack, secondary), 0);
  assert.ok(res.body.choices[0].text.length > 0);
});

test('5. a hang hits the deadline and falls back; with no fallback it is a 504', async () => {
  stack.sim.setFault(primary, { kind: 'hang' });
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-served-model'), 'qwen3');

  stack.sim.setFault('llama-3-8b-bls', { kind: 'hang' });
  const solo = await complete(stack.url, { ...ask, model: 'solo' });
  assert.equal(solo.status, 504, JSON.stringify(solo.body));
  assert.equal(solo.body.error.code, 'upstream_timeout');
});

test('6. a slow first token trips the TTFT deadline and the fallback streams before any byte was sent', async () => {
  stack.sim.setFault(primary, { kind: 'slow-first-token', ms: 1000 });
  const res = await completeStream(stack.url, ask);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
  assert.equal(res.headers.get('x-fallback-reason'), 'ttft_timeout');
  assert.ok(res.done);
  assert.ok(res.events.every((e) => e.event === undefined));
  assert.equal(res.events.filter((e) => e.data !== '[DONE]').every((e) => e.data.model === 'qwen3'), true);
});

test('11. a prompt too long for the model is a 400: no retry, no fallback, breaker untouched', async () => {
  const m0 = await scrape(`${stack.url}/metrics`);
  const longPrompt = Array.from({ length: 9000 }, (_, i) => `w${i}`).join(' ');
  const res = await complete(stack.url, { ...ask, prompt: longPrompt });
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 'context_length_exceeded');
  assert.equal(res.body.error.param, 'prompt');
  assert.equal(receivedFor(stack, primary), 1);
  assert.equal(receivedFor(stack, secondary), 0);
  const m1 = await scrape(`${stack.url}/metrics`);
  assert.equal(m1.value('circuit_breaker_transitions_total'), m0.value('circuit_breaker_transitions_total'));
  assert.equal(m1.value('circuit_breaker_state', { model: primary }), 0);
  assert.equal(m1.value('retries_total'), m0.value('retries_total'));
});

test('a client may ask for a shorter deadline with x-request-timeout-ms, bounded by config', async () => {
  stack.sim.setFault('llama-3-8b-bls', { kind: 'hang' });
  const res = await complete(stack.url, { ...ask, model: 'solo' }, { 'x-request-timeout-ms': '150' });
  assert.equal(res.status, 504);
  const line = stack.logs.find('request completed').at(-1)!;
  assert.ok((line.duration_ms as number) < 600, `the shorter deadline applied, took ${line.duration_ms} ms (the model allows 600)`);
  const bad = await complete(stack.url, ask, { 'x-request-timeout-ms': 'soon' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, 'x-request-timeout-ms');
});

test('a model Triton does not have (restarted without it) fails over and is counted as Triton failing, not answered 404', async () => {
  // Triton's answer for a model missing from its repository, as it arrives on a stream.
  const missing = (model: string) => ({ kind: 'error', code: 'NOT_FOUND', message: `Request for unknown model: '${model}' is not found` }) as const;
  stack.sim.setFault(primary, missing(primary));
  stack.sim.setFault('llama-3-8b-bls', missing('llama-3-8b-bls'));
  const m0 = await scrape(`${stack.url}/metrics`);
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
  assert.equal(res.headers.get('x-fallback-reason'), 'upstream_error');
  const m1 = await scrape(`${stack.url}/metrics`);
  const lost = { model_name: 'llama-3-8b', served_model: 'llama-3-8b', error_code: 'model_not_ready' };
  assert.ok(m1.value('upstream_errors_total', lost) > m0.value('upstream_errors_total', lost), 'counted where on-call looks for Triton failing');

  // With no fallback the client hears "not ready, retry later", not that its model does not exist.
  const alone = await complete(stack.url, { ...ask, model: 'solo' });
  assert.equal(alone.status, 503, JSON.stringify(alone.body));
  assert.equal(alone.body.error.code, 'model_not_ready');
  assert.ok(alone.headers.get('retry-after') !== null);
});

test('Triton refusing the tensors built from a changed config is not retried on that model; the fallback serves', async () => {
  stack.sim.setFault(primary, { kind: 'error', code: 'INVALID_ARGUMENT', message: `unexpected inference input 'lora_task_id' for model '${primary}'` });
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
  assert.equal(receivedFor(stack, primary), 1, 'the same request would fail the same way: one attempt');
  const m = await scrape(`${stack.url}/metrics`);
  assert.ok(m.value('upstream_errors_total', { served_model: 'llama-3-8b', error_code: 'upstream_config_mismatch' }) >= 1);
});
