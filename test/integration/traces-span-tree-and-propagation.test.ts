/**
 * With an in-memory span exporter: the span tree of a completion (request → Triton attempt),
 * its GenAI attributes, fallback decisions as span events, the traceparent Triton received
 * carrying the gateway's trace id, and the same ids on the completion log line.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { complete, completeStream } from '../helpers/openai-http.js';
import { primary, startResilienceStack } from '../helpers/resilience-stack.js';
import { eventually, type Stack } from '../helpers/stack.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

let stack: Stack;
before(async () => {
  stack = await startResilienceStack();
});
after(async () => {
  await stack.close();
  await provider.shutdown();
});
beforeEach(() => {
  exporter.reset();
  stack.sim.reset();
  stack.sim.clearFaults();
});

test('a completion is a server span with a client child per Triton attempt, with GenAI attributes', async () => {
  const res = await complete(stack.url, { model: 'llama-3-8b', prompt: 'trace me', max_tokens: 5 });
  assert.equal(res.status, 200);
  await eventually(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER), 2000, 'the request span');
  const spans = exporter.getFinishedSpans();
  const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
  const attempt = spans.find((s) => s.kind === SpanKind.CLIENT)!;
  assert.equal(server.name, 'POST /v1/completions');
  assert.equal(server.attributes['http.request.method'], 'POST');
  assert.equal(server.attributes['http.route'], '/v1/completions');
  assert.equal(server.attributes['url.scheme'], 'http');
  assert.equal(attempt.parentSpanContext?.spanId, server.spanContext().spanId);
  assert.equal(attempt.spanContext().traceId, server.spanContext().traceId);
  assert.equal(server.attributes['gen_ai.operation.name'], 'text_completion');
  assert.equal(server.attributes['gen_ai.request.model'], 'llama-3-8b');
  assert.equal(server.attributes['gen_ai.response.model'], 'llama-3-8b');
  assert.equal(server.attributes['gen_ai.usage.input_tokens'], res.body.usage.prompt_tokens);
  assert.equal(server.attributes['gen_ai.usage.output_tokens'], res.body.usage.completion_tokens);
  assert.equal(attempt.attributes['triton.model'], primary);
  assert.ok(server.events.some((e) => e.name === 'admitted'));

  // Triton received the attempt span as its parent.
  const received = stack.sim.received().find((r) => r.model === primary)!;
  const traceparent = received.metadata.traceparent!;
  assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  assert.equal(traceparent.split('-')[1], server.spanContext().traceId);
  assert.equal(traceparent.split('-')[2], attempt.spanContext().spanId);

  // The completion log line carries the same trace id.
  const line = stack.logs.find('request completed').at(-1)!;
  assert.equal(line.trace_id, server.spanContext().traceId);
});

test('a failed request logs its failure with the same trace ids as its completion line', async () => {
  stack.sim.setFault('llama-3-8b-bls', { kind: 'error', code: 'INTERNAL', message: 'engine fault' });
  try {
    const res = await complete(stack.url, { model: 'solo', prompt: 'x', max_tokens: 2 });
    assert.equal(res.status, 502, JSON.stringify(res.body));
  } finally {
    stack.sim.clearFaults();
  }
  const failure = stack.logs.find('request failed').at(-1)!;
  const line = stack.logs.find('request completed').at(-1)!;
  assert.match(String(failure.trace_id), /^[0-9a-f]{32}$/);
  assert.equal(failure.trace_id, line.trace_id);
  assert.equal(failure.span_id, line.span_id);
});

test('an incoming traceparent makes the gateway span its child', async () => {
  const parentTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${parentTrace}-00f067aa0ba902b7-01` },
    body: JSON.stringify({ model: 'qwen3', prompt: 'child', max_tokens: 2 }),
  });
  assert.equal(res.status, 200);
  await eventually(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER), 2000, 'the request span');
  const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
  assert.equal(server.spanContext().traceId, parentTrace);
  assert.equal(server.parentSpanContext?.spanId, '00f067aa0ba902b7');
});

test('fallback decisions are span events; a failed attempt is an error span; streams record time to first chunk', async () => {
  stack.sim.setFault(primary, { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  const res = await completeStream(stack.url, { model: 'llama-3-8b', prompt: 'fall back', max_tokens: 3 });
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
  await eventually(() => exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER), 2000, 'the request span');
  const spans = exporter.getFinishedSpans();
  const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
  const fallback = server.events.find((e) => e.name === 'fallback')!;
  assert.equal(fallback.attributes?.to, 'qwen3');
  assert.ok(server.events.some((e) => e.name === 'retry'));
  assert.equal(server.attributes['gen_ai.response.model'], 'qwen3');
  assert.equal(typeof server.attributes['gen_ai.server.time_to_first_token'], 'number');
  const attempts = spans.filter((s) => s.kind === SpanKind.CLIENT);
  assert.equal(attempts.length, 3, 'two attempts on the primary, one on the fallback');
  assert.equal(attempts.filter((s) => s.status.code === 2).length, 2);
});
