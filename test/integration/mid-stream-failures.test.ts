/**
 * After the first byte the gateway cannot fail over: a failure becomes an SSE error event with
 * an OpenAI error object and the stream closes without [DONE]. A stream that ends without its
 * final flag, or a malformed response, is an error — never a success.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI from 'openai';
import { complete, completeStream } from '../helpers/openai-http.js';
import { neverOpeningBreakers, startResilienceStack } from '../helpers/resilience-stack.js';
import { scrape } from '../helpers/scrape.js';
import { eventually, type Stack } from '../helpers/stack.js';

const solo = 'llama-3-8b-bls';
const adminToken = 'admin-token-for-tests-0123';
let stack: Stack;
before(async () => {
  stack = await startResilienceStack({ env: { GATEWAY_ADMIN_TOKEN: adminToken }, config: neverOpeningBreakers() });
});
after(async () => stack.close());
beforeEach(() => stack.sim.clearFaults());

const ask = { model: 'solo', prompt: 'tell me more', max_tokens: 12, temperature: 0 };

function errorEvent(res: Awaited<ReturnType<typeof completeStream>>) {
  const last = res.events.at(-1)!;
  assert.equal(last.event, 'error', res.raw);
  assert.equal(typeof last.data.error.message, 'string');
  assert.equal(typeof last.data.error.type, 'string');
  return last.data.error as { code: string; message: string; type: string };
}

test('7. a stream cut after some tokens ends with an SSE error event and no [DONE]', async () => {
  const m0 = await scrape(`${stack.url}/metrics`);
  stack.sim.setFault(solo, { kind: 'cut', afterTokens: 3, code: 'UNAVAILABLE', message: 'connection reset' });
  const res = await completeStream(stack.url, ask);
  assert.equal(res.status, 200);
  assert.equal(res.done, false);
  const contentChunks = res.events.filter((e) => e.event === undefined);
  assert.equal(contentChunks.length, 3);
  const err = errorEvent(res);
  assert.equal(err.code, 'upstream_unavailable');
  const m1 = await scrape(`${stack.url}/metrics`);
  assert.equal(m1.value('streams_aborted_total', { model_name: 'solo', phase: 'mid_stream' }) - m0.value('streams_aborted_total', { model_name: 'solo', phase: 'mid_stream' }), 1);
  // The partial stream's usage is recorded honestly: 3 tokens were relayed.
  const line = stack.logs.find('request completed').at(-1)!;
  assert.equal(line.tokens_out, 3);
  assert.equal(line.stream_abort, 'mid_stream');
  assert.equal(line.error_code, 'upstream_unavailable');
  // The user did see a first token (the gateway's TTFT counts it); the GenAI server metrics are
  // for successful responses only, by their convention.
  // Scraped after the completion line, which finish() writes with these metrics.
  const m2 = await scrape(`${stack.url}/metrics`);
  const delta = (name: string): number => m2.value(name, { model_name: 'solo' }) - m0.value(name, { model_name: 'solo' });
  assert.equal(delta('time_to_first_token_seconds_count'), 1);
  assert.equal(m2.value('time_to_first_token_seconds_count', { model_name: 'solo', stream: 'true' }) - m0.value('time_to_first_token_seconds_count', { model_name: 'solo', stream: 'true' }), 1, 'counted as a stream');
  const genAi = (name: string): number => m2.value(name, { gen_ai_request_model: 'solo' }) - m0.value(name, { gen_ai_request_model: 'solo' });
  assert.equal(genAi('gen_ai_server_time_to_first_token_seconds_count'), 0);
  assert.equal(genAi('gen_ai_server_time_per_output_token_seconds_count'), 0);
});

test('7b. the official SDK raises the in-band error as an APIError', async () => {
  stack.sim.setFault(solo, { kind: 'cut', afterTokens: 2, code: 'INTERNAL', message: 'boom' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = await client.completions.create({ ...ask, stream: true });
  let text = '';
  await assert.rejects(async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
  }, OpenAI.APIError);
  assert.ok(text.length > 0);
});

test('8. a stall mid-stream trips the idle timeout: SSE error event', async () => {
  stack.sim.setFault(solo, { kind: 'stall', afterTokens: 2 });
  const res = await completeStream(stack.url, ask);
  assert.equal(res.done, false);
  assert.equal(errorEvent(res).code, 'upstream_idle_timeout');
  await eventually(() => stack.sim.state().models[solo]!.inFlight === 0, 2000, 'the stalled call to be cancelled');
});

test('9. a malformed response is a 502, or an error event mid-stream', async () => {
  stack.sim.setFault(solo, { kind: 'malformed', variant: 'truncated-length-prefix' });
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 502, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 'upstream_bad_response');
  const streamed = await completeStream(stack.url, ask);
  // Malformed from the first response: nothing was sent yet, so it is a plain 502 as well.
  if (streamed.status === 200) assert.equal(errorEvent(streamed).code, 'upstream_bad_response');
  else assert.equal(streamed.status, 502);
});

test('10. a stream that ends without its final flag is an error, not a success', async () => {
  stack.sim.setFault(solo, { kind: 'no-final' });
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 502, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 'upstream_stream_incomplete');
  const streamed = await completeStream(stack.url, ask);
  assert.equal(streamed.status, 200);
  assert.equal(streamed.done, false);
  assert.equal(errorEvent(streamed).code, 'upstream_stream_incomplete');
});

// StreamAbortsHigh divides these aborts by job_model:admitted_requests:rate5m (the GenAI
// operation count). A refusal without any attempt at Triton (an open breaker's, or here a
// disabled model's: the same all_upstreams_unavailable) must be in it, or in an outage the ratio
// goes above 100%, as it did over the requests that reached Triton.
test('11. a stream refused before any attempt counts in the requests StreamAbortsHigh divides by', async () => {
  const admin = (action: 'disable' | 'enable') =>
    fetch(`${stack.url}/admin/models/solo/${action}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'x-actor': 'test' } });
  const m0 = await scrape(`${stack.url}/metrics`);
  assert.equal((await admin('disable')).status, 200);
  try {
    const res = await completeStream(stack.url, ask);
    assert.equal(res.status, 503);
  } finally {
    assert.equal((await admin('enable')).status, 200);
  }
  const refused = { gen_ai_request_model: 'solo', error_type: 'all_upstreams_unavailable' };
  // finish() records the request with the completion line, after the answer was sent.
  await eventually(
    async () => (await scrape(`${stack.url}/metrics`)).value('gen_ai_client_operation_duration_seconds_count', refused) > m0.value('gen_ai_client_operation_duration_seconds_count', refused),
    2000,
    'the refused request in the GenAI operation count',
  );
  const m1 = await scrape(`${stack.url}/metrics`);
  const delta = (name: string, labels: Record<string, string>): number => m1.value(name, labels) - m0.value(name, labels);
  assert.equal(delta('streams_aborted_total', { model_name: 'solo', phase: 'before_first_byte' }), 1);
  assert.equal(delta('gen_ai_client_operation_duration_seconds_count', refused), 1, 'in the denominator');
  assert.equal(delta('model_inference_duration_seconds_count', { model_name: 'solo' }), 0, 'it never reached Triton');
});
