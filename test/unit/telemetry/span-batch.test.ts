/**
 * Spans made by the real SDK, turned into a batch, copied the way postMessage copies it
 * (structuredClone) and turned back, are the same spans to an exporter: every field the OTLP
 * and Jaeger exporters read, the trace states, and one Resource and scope object per original.
 * The spans travel as one flat array of primitives, which V8 copies fastest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, createTraceState, trace, type SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanBatchBuilder, readableSpans } from '../../../src/telemetry/span-batch.js';

function provider(service: string): { provider: BasicTracerProvider; finished: InMemorySpanExporter } {
  const finished = new InMemorySpanExporter();
  return {
    provider: new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(finished)] }),
    finished,
  };
}

const remoteParent: SpanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: 1,
  isRemote: true,
  traceState: createTraceState('vendor=value,other=1'),
};

function makeSpans(): ReadableSpan[] {
  const a = provider('gateway-a');
  const b = provider('gateway-b');
  const requestTracer = a.provider.getTracer('triton-gateway', '1.2.3');
  const request = requestTracer.startSpan('POST /v1/completions', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST' } }, trace.setSpanContext(ROOT_CONTEXT, remoteParent));
  request.addEvent('admitted', { wait_ms: 3 });
  const attempt = a.provider.getTracer('other-scope').startSpan(
    'triton.infer llama',
    { kind: SpanKind.CLIENT, attributes: { 'triton.attempt': 1, 'gen_ai.request.model': 'llama', tags: ['a', 'b'] }, links: [{ context: remoteParent, attributes: { why: 'retry of' } }, { context: remoteParent }] },
    trace.setSpan(ROOT_CONTEXT, request),
  );
  attempt.addEvent('first_response');
  attempt.setStatus({ code: SpanStatusCode.ERROR, message: 'deadline_exceeded' });
  attempt.end();
  request.end();
  b.provider.getTracer('triton-gateway', '1.2.3').startSpan('GET /livez').end();
  return [...a.finished.getFinishedSpans(), ...b.finished.getFinishedSpans()];
}

function exporterView(span: ReadableSpan) {
  const context = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    context: { ...context, traceState: context.traceState?.serialize() },
    parent: span.parentSpanContext ? { ...span.parentSpanContext, traceState: span.parentSpanContext.traceState?.serialize() } : undefined,
    startTime: span.startTime,
    endTime: span.endTime,
    duration: span.duration,
    ended: span.ended,
    status: span.status,
    attributes: span.attributes,
    links: span.links.map((l) => ({ ...l, context: { ...l.context, traceState: l.context.traceState?.serialize() } })),
    events: span.events,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
    resource: { attributes: span.resource.attributes, schemaUrl: span.resource.schemaUrl },
    scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version, schemaUrl: span.instrumentationScope.schemaUrl },
  };
}

test('spans survive the trip through a batch and structuredClone field for field', () => {
  const spans = makeSpans();
  assert.equal(spans.length, 3);
  const builder = new SpanBatchBuilder();
  for (const span of spans) builder.add(span);
  assert.equal(builder.size, 3);
  const received = readableSpans(structuredClone(builder.take()));
  assert.equal(builder.size, 0, 'take() empties the builder');
  assert.deepEqual(received.map(exporterView), spans.map(exporterView));
  const [attempt, request, livez] = received;
  assert.equal(attempt!.parentSpanContext?.spanId, request!.spanContext().spanId, 'the attempt still names its parent');
  assert.equal(request!.parentSpanContext?.traceState?.get('vendor'), 'value', 'trace states work again, not just their text');
  assert.equal(attempt!.resource, request!.resource, 'spans of one resource share one Resource object, as exporters group by identity');
  assert.notEqual(livez!.resource, request!.resource);
  assert.notEqual(attempt!.instrumentationScope, request!.instrumentationScope);
  assert.equal(attempt!.links[1]!.attributes, undefined, 'a link without attributes stays without');
});

test('a batch carries its spans as primitives only (an attribute array is the one exception)', () => {
  const builder = new SpanBatchBuilder();
  for (const span of makeSpans()) builder.add(span);
  const batch = builder.take();
  assert.equal(batch.count, 3);
  const isPrimitive = (v: unknown): boolean => v === undefined || v === null || ['string', 'number', 'boolean'].includes(typeof v);
  const nested = batch.fields.filter((field) => !isPrimitive(field) && !(Array.isArray(field) && field.every(isPrimitive)));
  assert.deepEqual(nested, []);
  assert.ok(batch.fields.some((field) => Array.isArray(field)), "the attempt's tags attribute");
});

test('a batch taken after another starts its resource and scope tables afresh', () => {
  const spans = makeSpans();
  const builder = new SpanBatchBuilder();
  builder.add(spans[2]!);
  builder.take();
  builder.add(spans[0]!);
  const batch = builder.take();
  assert.equal(batch.resources.length, 1);
  assert.equal(batch.scopes.length, 1);
  assert.deepEqual(readableSpans(batch).map(exporterView), [exporterView(spans[0]!)]);
});

test('attributes a resource detects asynchronously are pending until they arrive, then sent', async () => {
  let arrive!: (value: string) => void;
  const hostId = new Promise<string>((resolve) => (arrive = resolve));
  const resource = resourceFromAttributes({ 'service.name': 'gw', 'host.id': hostId });
  // Not SimpleSpanProcessor: it holds spans back until the resource is complete.
  const ended: ReadableSpan[] = [];
  const collect: SpanProcessor = { onStart: () => {}, onEnd: (span) => ended.push(span), forceFlush: async () => {}, shutdown: async () => {} };
  const tracer = new BasicTracerProvider({ resource, spanProcessors: [collect] }).getTracer('t');
  tracer.startSpan('early').end();
  const builder = new SpanBatchBuilder();
  for (const span of ended) builder.add(span);
  const [pending, ...more] = builder.pendingResources();
  assert.equal(more.length, 0);
  assert.equal(pending, ended[0]!.resource, "the span's resource (the provider's merge of ours)");
  arrive('host-1');
  await pending!.waitForAsyncAttributes?.();
  assert.deepEqual(builder.pendingResources(), []);
  const attributes = builder.take().resources[0]?.attributes;
  assert.equal(attributes?.['host.id'], 'host-1');
  assert.equal(attributes?.['service.name'], 'gw');
});
