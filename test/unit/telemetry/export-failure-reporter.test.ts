/**
 * reportingExportFailures around the real OTLP/HTTP exporter and a receiver on loopback that
 * refuses, then takes, exports: the first failure of a run is said once, the success after it once.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { reportingExportFailures } from '../../../src/telemetry/export-failure-reporter.js';

function someSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t');
  tracer.startSpan('one').end();
  return memory.getFinishedSpans();
}

test('a run of failed exports is said once, and the success that ends it once', async (t) => {
  const answers = [400, 400, 200, 200, 400];
  let answered = 0;
  const server = createServer((req, res) => {
    req.resume();
    // 400 is not retried by the exporter: that export fails at once.
    req.on('end', () => res.writeHead(answers[answered++] ?? 200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const said: string[] = [];
  const exporter = reportingExportFailures(new OTLPTraceExporter({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces` }), {
    failing: (message) => said.push(`failing: ${message}`),
    recovered: () => said.push('recovered'),
  });
  t.after(() => exporter.shutdown());
  const results: number[] = [];
  for (let i = 0; i < answers.length; i++) results.push(await new Promise<number>((resolve) => exporter.export(someSpans(), (r) => resolve(r.code))));
  assert.deepEqual(results, [1, 1, 0, 0, 1], 'the results pass through unchanged');
  assert.deepEqual(said.map((s) => s.split(':')[0]), ['failing', 'recovered', 'failing']);
  assert.match(said[0]!, /400|Bad Request/);
});
