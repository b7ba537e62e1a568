/**
 * The processor that hands spans to the export worker, with the real worker and exporter
 * sending OTLP/HTTP to a receiver on loopback; and with small stand-in workers for a worker that
 * stalls or dies, which must cost the gateway spans, never requests.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { WorkerSpanProcessor } from '../../../src/telemetry/worker-span-processor.js';

interface OtlpJsonSpan {
  name: string;
  spanId: string;
  parentSpanId?: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  events: Array<{ name: string }>;
  status: { code?: number; message?: string };
}

/** `delayFirstAnswerMs`: the first export's answer waits that long (an export still in flight). */
async function otlpReceiver(t: TestContext, delayFirstAnswerMs = 0): Promise<{ url: string; spans: OtlpJsonSpan[]; services: Set<string>; requests: () => number; spansPerRequest: number[]; answeredAt: number[] }> {
  const spans: OtlpJsonSpan[] = [];
  const spansPerRequest: number[] = [];
  const answeredAt: number[] = [];
  const services = new Set<string>();
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests += 1;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: OtlpJsonSpan[] }> }>;
      };
      const before = spans.length;
      for (const rs of body.resourceSpans) {
        for (const a of rs.resource.attributes) if (a.key === 'service.name' && a.value.stringValue) services.add(a.value.stringValue);
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      spansPerRequest.push(spans.length - before);
      const answer = (): void => {
        answeredAt.push(performance.now());
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      };
      if (requests === 1 && delayFirstAnswerMs > 0) setTimeout(answer, delayFirstAnswerMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans, services, requests: () => requests, spansPerRequest, answeredAt };
}

function tracerFor(processor: WorkerSpanProcessor) {
  return new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'gw-worker-test' }), spanProcessors: [processor] }).getTracer('triton-gateway');
}

test('spans reach an OTLP/HTTP receiver through the worker, parents, events and status intact', async (t) => {
  const receiver = await otlpReceiver(t);
  const processor = new WorkerSpanProcessor({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, batchSize: 16 });
  t.after(() => processor.shutdown());
  await processor.ready;
  const tracer = tracerFor(processor);
  for (let i = 0; i < 40; i++) {
    const request = tracer.startSpan(`POST /v1/completions ${i}`, { kind: SpanKind.SERVER });
    const attempt = tracer.startSpan('triton.infer llama', { kind: SpanKind.CLIENT, attributes: { 'triton.attempt': 1 } }, trace.setSpan(ROOT_CONTEXT, request));
    attempt.addEvent('first_response');
    if (i === 7) attempt.setStatus({ code: SpanStatusCode.ERROR, message: 'deadline_exceeded' });
    attempt.end();
    request.end();
  }
  await processor.forceFlush();
  assert.equal(receiver.spans.length, 80, 'every span, after forceFlush() resolved');
  assert.deepEqual([...receiver.services], ['gw-worker-test']);
  const requests = new Map(receiver.spans.filter((s) => s.name.startsWith('POST')).map((s) => [s.spanId, s]));
  const attempts = receiver.spans.filter((s) => s.name === 'triton.infer llama');
  assert.equal(attempts.length, 40);
  for (const attempt of attempts) {
    assert.ok(attempt.parentSpanId && requests.has(attempt.parentSpanId), 'each attempt names its request span as parent');
    assert.deepEqual(attempt.events.map((e) => e.name), ['first_response']);
    assert.deepEqual(attempt.attributes, [{ key: 'triton.attempt', value: { intValue: 1 } }]);
  }
  assert.equal(attempts.filter((s) => s.status.code === SpanStatusCode.ERROR && s.status.message === 'deadline_exceeded').length, 1);
  assert.equal(processor.dropped, 0);
});

for (const [env, largest] of [[{}, 512], [{ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '100' }, 100]] as const) {
  test(`the worker exports batches of up to ${largest} spans (OTEL_BSP_MAX_EXPORT_BATCH_SIZE ${'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' in env ? 'set' : 'unset'})`, async (t) => {
    const receiver = await otlpReceiver(t);
    const processor = new WorkerSpanProcessor({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', ...env } });
    t.after(() => processor.shutdown());
    await processor.ready;
    const tracer = tracerFor(processor);
    for (let i = 0; i < 600; i++) tracer.startSpan(`span ${i}`).end();
    await processor.forceFlush();
    assert.equal(receiver.spans.length, 600);
    assert.equal(Math.max(...receiver.spansPerRequest), largest, `requests of ${receiver.spansPerRequest.join(', ')} spans`);
  });
}

test('forceFlush() resolves only once an export already in flight has been answered', async (t) => {
  const receiver = await otlpReceiver(t, 300);
  const processor = new WorkerSpanProcessor({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' } });
  t.after(() => processor.shutdown());
  await processor.ready;
  const tracer = tracerFor(processor);
  // 512 fill a batch, which the worker starts exporting at once (answered after 300 ms); the rest wait for forceFlush().
  for (let i = 0; i < 520; i++) tracer.startSpan(`span ${i}`).end();
  await processor.forceFlush();
  const flushedAt = performance.now();
  assert.equal(receiver.answeredAt.length, 2, `both exports answered before forceFlush() resolved (${receiver.spansPerRequest.join(', ')} spans)`);
  assert.ok(Math.max(...receiver.answeredAt) <= flushedAt);
  assert.equal(receiver.spans.length, 520);
});

test('shutdown() exports the spans still waiting, then stops the worker', async (t) => {
  const receiver = await otlpReceiver(t);
  const processor = new WorkerSpanProcessor({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, flushDelayMs: 60_000 });
  await processor.ready;
  const tracer = tracerFor(processor);
  for (let i = 0; i < 5; i++) tracer.startSpan(`last ${i}`).end();
  await processor.shutdown();
  assert.deepEqual(receiver.spans.map((s) => s.name).sort(), ['last 0', 'last 1', 'last 2', 'last 3', 'last 4']);
  tracer.startSpan('after shutdown').end();
  assert.equal(processor.dropped, 1, 'a span ended after shutdown is dropped, not posted to a stopped worker');
});

test('an exporter the worker cannot make rejects ready with the reason', async () => {
  const processor = new WorkerSpanProcessor({ env: { OTEL_TRACES_EXPORTER: 'carrier-pigeon' } });
  await assert.rejects(processor.ready, /OTEL_TRACES_EXPORTER=carrier-pigeon is not supported/);
  await processor.shutdown();
});

test('spans beyond maxQueueSize are dropped, and said once, while the worker does not take them', async (t) => {
  const warnings: string[] = [];
  const processor = new WorkerSpanProcessor({ env: {}, workerUrl: new URL('../../helpers/span-workers/stalled.mjs', import.meta.url), batchSize: 5, maxQueueSize: 10, timeoutMs: 200, warn: (m) => warnings.push(m) });
  t.after(() => processor.shutdown().catch(() => undefined));
  await processor.ready;
  const tracer = tracerFor(processor);
  for (let i = 0; i < 30; i++) tracer.startSpan(`span ${i}`).end();
  assert.equal(processor.dropped, 20, 'two batches of 5 are posted and untaken: the queue is full');
  assert.deepEqual(warnings, ['span export worker is 10 spans behind; spans are dropped until it catches up (said once)']);
  await assert.rejects(processor.forceFlush(), /did not flush within 200 ms/);
});

test('a worker that dies costs spans, once reported, and never an exception in the caller', async (t) => {
  const warnings: string[] = [];
  const processor = new WorkerSpanProcessor({ env: {}, workerUrl: new URL('../../helpers/span-workers/crashes-on-spans.mjs', import.meta.url), batchSize: 2, warn: (m) => warnings.push(m) });
  t.after(() => processor.shutdown());
  await processor.ready;
  const tracer = tracerFor(processor);
  tracer.startSpan('a').end();
  tracer.startSpan('b').end();
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (warnings.length > 0) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  });
  for (let i = 0; i < 10; i++) tracer.startSpan(`after ${i}`).end();
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /span export worker failed \(exporter blew up\); spans are dropped from now on/);
  assert.equal(processor.dropped, 12, 'the posted batch and every span after it');
  await processor.forceFlush();
});

/** Ends a span and flushes it to `url`, three times; what the processor said on its warn channel. */
async function exportThreeTimes(t: TestContext, url: string): Promise<string[]> {
  const warnings: string[] = [];
  const processor = new WorkerSpanProcessor({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, warn: (message) => warnings.push(message) });
  t.after(() => processor.shutdown());
  await processor.ready;
  const tracer = tracerFor(processor);
  for (let round = 0; round < 3; round++) {
    tracer.startSpan(`span ${round}`).end();
    await processor.forceFlush().catch(() => undefined);
  }
  return warnings;
}

test('a collector that cannot be reached is said once', async (t) => {
  const closed = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const warnings = await exportThreeTimes(t, `http://127.0.0.1:${closed}/v1/traces`);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /^trace export is failing \(.*(ECONNREFUSED|connect)/i);
});

test('a collector that refuses an export and then takes the next is said failing once, then recovered', async (t) => {
  let answered = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      answered += 1;
      // 400 is not retried by the exporter: that export fails at once.
      res.writeHead(answered === 1 ? 400 : 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const warnings = await exportThreeTimes(t, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`);
  assert.equal(answered, 3);
  assert.deepEqual(warnings.map((w) => w.split(' (')[0]), ['trace export is failing', 'trace export succeeds again'], warnings.join('\n'));
});
