/**
 * A client that goes away is still an answered request: whether it left mid-stream, while a
 * non-streamed request waited on Triton, or while queued for admission, the gateway writes one
 * "request completed" line with status 499, counts it in the HTTP and GenAI metrics, ends its
 * span, and bills the tokens a stream had already relayed.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { scrape, type Scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

let stack: Stack;
before(async () => {
  stack = await startStack({
    config: {
      // One slot, so a second request waits in the admission queue.
      admission: { maxInFlight: 1 },
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', pricing: { inputPerMillion: 1, outputPerMillion: 3 } },
        { name: 'qwen3', tritonModel: 'qwen3-vllm' },
      ],
    },
  });
});
after(async () => {
  await stack.close();
  await provider.shutdown();
});
beforeEach(() => {
  exporter.reset();
  stack.sim.clearFaults();
});

function post(requestId: string, body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
  return fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify(body),
    signal,
  });
}

function completionLines(requestId: string): Array<Record<string, unknown>> {
  return stack.logs.find('request completed').filter((l) => l.reqId === requestId);
}

/** Waits for the request's completion line, then a little longer to catch a second one. */
async function theCompletionLine(requestId: string): Promise<Record<string, unknown>> {
  await eventually(() => completionLines(requestId).length > 0, 5000, `the completion line of ${requestId}`);
  await new Promise((r) => setTimeout(r, 200));
  const lines = completionLines(requestId);
  assert.equal(lines.length, 1, 'exactly one completion line');
  return lines[0]!;
}

function serverSpan(requestId: string): ReadableSpan | undefined {
  return exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.attributes['http.request.id'] === requestId);
}

function diff(before: Scrape, now: Scrape, name: string, labels: Record<string, string>): number {
  return now.value(name, labels) - before.value(name, labels);
}

const endpoint = '/v1/completions';

test('a stream cut by its client: one 499 line, HTTP and GenAI metrics, span ended, partial usage and cost billed', async () => {
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 50 });
  const m0 = await scrape(`${stack.url}/metrics`);
  const controller = new AbortController();
  const res = await post('cut-stream-1', { model: 'llama-3-8b', prompt: 'a long story', max_tokens: 400, stream: true }, controller.signal);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  // A few tokens reach the client before it leaves.
  let received = '';
  while ((received.match(/"text"/g) ?? []).length < 3) received += new TextDecoder().decode((await reader.read()).value);
  controller.abort();

  const line = await theCompletionLine('cut-stream-1');
  assert.equal(line.status, 499);
  assert.equal(line.stream, true);
  assert.equal(line.stream_abort, 'client_disconnect');
  assert.equal(line.error_code, 'client_cancelled');
  const tokensOut = line.tokens_out as number;
  assert.ok(tokensOut >= 3 && tokensOut < 400, `the tokens relayed before the disconnect (${tokensOut})`);
  assert.ok((line.cost_usd as number) > 0, 'the partial cost');

  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(diff(m0, m, 'http_requests_total', { endpoint, status: '499' }), 1);
  assert.equal(diff(m0, m, 'http_requests_total', { endpoint }), 1, 'counted once');
  assert.equal(diff(m0, m, 'request_duration_seconds_count', { endpoint }), 1);
  assert.equal(diff(m0, m, 'errors_total', { endpoint, error_type: 'client_cancelled' }), 1);
  assert.equal(diff(m0, m, 'gen_ai_client_operation_duration_seconds_count', { gen_ai_request_model: 'llama-3-8b' }), 1);
  assert.equal(diff(m0, m, 'model_inference_duration_seconds_count', { model_name: 'llama-3-8b' }), 1);
  assert.equal(diff(m0, m, 'tokens_generated_total', { model_name: 'llama-3-8b' }), tokensOut);
  assert.ok(diff(m0, m, 'cost_usd_total', { model_name: 'llama-3-8b' }) > 0);
  assert.equal(diff(m0, m, 'streams_aborted_total', { model_name: 'llama-3-8b', phase: 'client_disconnect' }), 1);

  await eventually(() => serverSpan('cut-stream-1') !== undefined, 2000, 'the request span to end');
  const span = serverSpan('cut-stream-1')!;
  assert.equal(span.attributes['http.response.status_code'], 499);
  assert.equal(span.attributes['gen_ai.usage.output_tokens'], tokensOut);
});

test('a non-streamed request abandoned while Triton works: one 499 line, metrics, span ended', async () => {
  stack.sim.setFault('qwen3-vllm', { kind: 'hang' });
  const m0 = await scrape(`${stack.url}/metrics`);
  const controller = new AbortController();
  const pending = post('gone-waiting-2', { model: 'qwen3', prompt: 'anything', max_tokens: 4 }, controller.signal).catch((err: unknown) => err);
  await eventually(() => stack.sim.state().models['qwen3-vllm']!.inFlight === 1, 5000, 'the request to reach the simulator');
  controller.abort();
  await pending;

  const line = await theCompletionLine('gone-waiting-2');
  assert.equal(line.status, 499);
  assert.equal(line.stream, false);
  assert.equal(line.error_code, 'client_cancelled');
  assert.ok((line.upstream_ms as number) > 0, 'it reached Triton');

  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(diff(m0, m, 'http_requests_total', { endpoint, status: '499' }), 1);
  assert.equal(diff(m0, m, 'http_requests_total', { endpoint }), 1, 'counted once');
  assert.equal(diff(m0, m, 'request_duration_seconds_count', { endpoint }), 1);
  assert.equal(diff(m0, m, 'errors_total', { endpoint, error_type: 'client_cancelled' }), 1);
  assert.equal(diff(m0, m, 'model_inference_duration_seconds_count', { model_name: 'qwen3' }), 1);
  await eventually(() => serverSpan('gone-waiting-2') !== undefined, 2000, 'the request span to end');
  assert.equal(serverSpan('gone-waiting-2')!.attributes['http.response.status_code'], 499);
});

test('a request abandoned in the admission queue: one 499 line, never counted as a Triton call', async () => {
  stack.sim.setFault('qwen3-vllm', { kind: 'hang' });
  const holder = new AbortController();
  const holding = post('slot-holder-3', { model: 'qwen3', prompt: 'hold the slot', max_tokens: 4 }, holder.signal).catch((err: unknown) => err);
  await eventually(() => stack.sim.state().models['qwen3-vllm']!.inFlight === 1, 5000, 'the slot holder to reach the simulator');

  const m0 = await scrape(`${stack.url}/metrics`);
  const controller = new AbortController();
  const queued = post('gave-up-queued-3', { model: 'llama-3-8b', prompt: 'wait', max_tokens: 4, stream: true }, controller.signal).catch((err: unknown) => err);
  await eventually(() => stack.app.services.admission.state.queued === 1, 5000, 'the second request to queue');
  controller.abort();
  await queued;

  const line = await theCompletionLine('gave-up-queued-3');
  assert.equal(line.status, 499);
  assert.equal(line.error_code, 'client_cancelled');
  assert.equal(line.upstream_ms, 0);
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(diff(m0, m, 'http_requests_total', { endpoint, status: '499' }), 1);
  assert.equal(diff(m0, m, 'request_duration_seconds_count', { endpoint }), 1);
  assert.equal(diff(m0, m, 'model_inference_duration_seconds_count', { model_name: 'llama-3-8b' }), 0, 'it never reached Triton');
  await eventually(() => serverSpan('gave-up-queued-3') !== undefined, 2000, 'the request span to end');

  holder.abort();
  await holding;
  await theCompletionLine('slot-holder-3');
});
