/**
 * The benchmark's OTLP receiver runs as a child process: it counts exports and spans (a
 * `"parentSpanId":` is not a span), reports them over /stats, and exits when closed. Protobuf
 * exports are counted too, checked against the real OTLP/protobuf exporter.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startOtlpSink } from '../../bench/lib/otlp-sink.js';
import { countProtobufSpans } from '../../bench/lib/otlp-span-count.js';
import { processAlive as alive } from '../helpers/process-alive.js';

test('the OTLP sink counts exports and spans in its own process, and stops on close', async () => {
  const sink = await startOtlpSink();
  try {
    assert.notEqual(sink.pid, process.pid);
    assert.ok(alive(sink.pid));
    assert.match(sink.endpoint, /^http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/);
    assert.deepEqual(await sink.stats(), { exports: 0, bytes: 0, spans: 0 });

    const first = JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'a1', spanId: 's1', name: 'POST /v1/chat/completions' }] }] }],
    });
    const second = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId: 'a1', spanId: 's2', parentSpanId: 's1', name: 'triton.infer' },
                { traceId: 'a2', spanId: 's3', name: 'POST /v1/completions' },
              ],
            },
          ],
        },
      ],
    });
    assert.equal((first + second).split('"spanId":').length - 1, 3);
    assert.ok(second.includes('"parentSpanId":'));
    for (const body of [first, second]) {
      const res = await fetch(sink.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 200);
      await res.text();
    }

    const stats = await sink.stats();
    assert.equal(stats.exports, 2);
    assert.equal(stats.spans, 3);
    assert.equal(stats.bytes, Buffer.byteLength(first) + Buffer.byteLength(second));
  } finally {
    await sink.close();
  }
  // Exited by itself on SIGTERM (code 0), not killed.
  assert.equal(sink.child.exitCode, 0);
  assert.equal(sink.child.signalCode, null);
  assert.equal(alive(sink.pid), false);
  await assert.rejects(sink.stats());
});

test('spans sent by the OTLP/protobuf exporter are counted, parents and children alike', async () => {
  const sink = await startOtlpSink();
  try {
    const provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: sink.endpoint }), { maxExportBatchSize: 4 })],
    });
    const tracer = provider.getTracer('sink-test');
    for (let i = 0; i < 5; i++) {
      const parent = tracer.startSpan(`POST /v1/completions ${i}`, { attributes: { 'gen_ai.request.model': 'llama-3-8b', big: 'x'.repeat(300) } });
      const child = tracer.startSpan('triton.infer', { attributes: { attempt: 1 } }, undefined);
      child.addEvent('first_response', { at: i });
      child.end();
      parent.end();
    }
    await provider.forceFlush();
    await provider.shutdown();
    const stats = await sink.stats();
    assert.equal(stats.spans, 10);
    assert.ok(stats.exports >= 3, `batches of 4: ${stats.exports} exports`);
  } finally {
    await sink.close();
  }
});

test('the protobuf count reads only field keys and lengths, and refuses a truncated export', () => {
  // resource_spans { scope_spans { spans {} spans {} } scope_spans { spans {} } } resource_spans {}
  const span = [0x12, 0x00];
  const scope1 = [...span, ...span];
  const scope2 = [0x0a, 0x00, ...span];
  const resource1 = [0x0a, 0x00, 0x12, scope1.length, ...scope1, 0x12, scope2.length, ...scope2, 0x1a, 1, 0x41];
  const body = Uint8Array.from([0x0a, resource1.length, ...resource1, 0x0a, 0x00]);
  assert.equal(countProtobufSpans(body), 3);
  assert.equal(countProtobufSpans(new Uint8Array(0)), 0);
  assert.throws(() => countProtobufSpans(body.subarray(0, body.length - 5)), /past its message|truncated/);
});
