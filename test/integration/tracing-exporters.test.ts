/**
 * The production preload (`node --import …/tracing`) exports spans over OTLP/HTTP (protobuf
 * unless OTEL_EXPORTER_OTLP_PROTOCOL says http/json) to a local receiver, from its worker thread
 * or, with GATEWAY_SPAN_EXPORT=inline, from the event loop; the Jaeger exporter starts from the
 * OTEL_* variables, and a bad exporter name, protocol or export mode is refused. The SDK runs
 * traces only: no OTLP metric or log export of its own.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { metrics, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { JaegerExporter } from '@opentelemetry/exporter-jaeger';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import { batchSpanProcessorConfig, createSpanProcessor, createTraceExporter, shutdownTracing, spanExport, startTracing } from '../../src/telemetry/tracing-setup.js';
import { WorkerSpanProcessor } from '../../src/telemetry/worker-span-processor.js';
import { startSimulator } from '../../sim/index.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';

test('the exporter follows OTEL_TRACES_EXPORTER', async () => {
  assert.ok((await createTraceExporter({})) instanceof OtlpProtobufExporter);
  assert.ok((await createTraceExporter({ OTEL_TRACES_EXPORTER: 'otlp' })) instanceof OtlpProtobufExporter);
  assert.ok((await createTraceExporter({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })) instanceof OtlpJsonExporter);
  assert.ok((await createTraceExporter({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })) instanceof OtlpJsonExporter, 'the traces variable wins');
  assert.ok((await createTraceExporter({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/Protobuf' })) instanceof OtlpProtobufExporter);
  await assert.rejects(() => createTraceExporter({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/);
  await assert.rejects(() => createTraceExporter({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc is not supported/);
  assert.ok((await createTraceExporter({ OTEL_TRACES_EXPORTER: 'jaeger', OTEL_EXPORTER_JAEGER_AGENT_HOST: '127.0.0.1' })) instanceof JaegerExporter);
  assert.ok((await createTraceExporter({ OTEL_TRACES_EXPORTER: 'console' })) instanceof ConsoleSpanExporter);
  assert.equal(await createTraceExporter({ OTEL_TRACES_EXPORTER: 'none' }), undefined);
  assert.equal(await createTraceExporter({ OTEL_SDK_DISABLED: 'true' }), undefined);
  await assert.rejects(() => createTraceExporter({ OTEL_TRACES_EXPORTER: 'carrier-pigeon' }), /not supported/);
});

test('spans are exported from a worker thread unless GATEWAY_SPAN_EXPORT=inline', async () => {
  assert.equal(spanExport({}), 'worker');
  assert.equal(spanExport({ GATEWAY_SPAN_EXPORT: ' Inline ' }), 'inline');
  assert.throws(() => spanExport({ GATEWAY_SPAN_EXPORT: 'carrier-pigeon' }), /GATEWAY_SPAN_EXPORT=carrier-pigeon is not supported \(worker, inline\)/);
  await assert.rejects(() => startTracing({ GATEWAY_SPAN_EXPORT: 'threads' }), /GATEWAY_SPAN_EXPORT=threads is not supported/);
  const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces' };
  const inline = await createSpanProcessor({ ...env, GATEWAY_SPAN_EXPORT: 'inline' });
  const worker = await createSpanProcessor(env);
  try {
    assert.ok(inline instanceof BatchSpanProcessor, 'inline: the SDK processor on the event loop');
    assert.ok(worker instanceof WorkerSpanProcessor, 'by default: the worker');
  } finally {
    await Promise.all([inline.shutdown(), worker.shutdown()]);
  }
});

test('the inline processor exports batches of 64 spans, the worker the SDK default of 512, unless OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise', () => {
  assert.deepEqual(batchSpanProcessorConfig({}, 'inline'), { maxExportBatchSize: 64 });
  assert.deepEqual(batchSpanProcessorConfig({}, 'worker'), {}, "the SDK's default (test/unit/telemetry/worker-span-processor.test.ts sees 512 arrive)");
  // Left to the SDK, which reads the variable itself.
  assert.deepEqual(batchSpanProcessorConfig({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '256' }, 'inline'), {});
  assert.deepEqual(batchSpanProcessorConfig({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '256' }, 'worker'), {});
});

test('the SDK exports traces only, no OTLP metrics or logs of its own (NodeSDK defaults both to OTLP)', async (t) => {
  const paths: string[] = [];
  const receiver = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => receiver.close());
  const addr = receiver.address();
  // NodeSDK reads these from process.env itself; short intervals so a metric reader or log
  // processor, if one were running, would export within the wait below.
  const vars: Record<string, string> = {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    OTEL_METRIC_EXPORT_INTERVAL: '100',
    OTEL_BLRP_SCHEDULE_DELAY: '50',
    GATEWAY_SPAN_EXPORT: 'inline',
  };
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  t.after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  await startTracing(process.env);
  trace.getTracer('probe').startSpan('probe').end();
  metrics.getMeter('probe').createCounter('probe_total').add(1);
  logs.getLogger('probe').emit({ body: 'probe' });
  await sleep(400);
  await shutdownTracing();

  assert.ok(paths.includes('/v1/traces'), `the span reached the receiver (got ${JSON.stringify(paths)})`);
  assert.deepEqual(paths.filter((path) => path !== '/v1/traces'), [], 'nothing but traces was exported');
});

async function runGateway(env: Record<string, string>, simAddress: string, work: (url: string) => Promise<void>): Promise<{ code: number | null; output: string }> {
  const gw = await startGatewayProcess({ simGrpc: simAddress, drainSeconds: 2, preload: ['./src/telemetry/tracing.ts'], env });
  try {
    await work(gw.url);
    gw.child.kill('SIGTERM');
    return { code: await gw.exited, output: gw.output() };
  } finally {
    gw.kill();
  }
}

for (const mode of ['worker', 'inline'] as const) {
  test(`spans reach a local OTLP/HTTP receiver from the preloaded SDK (GATEWAY_SPAN_EXPORT=${mode})`, async (t) => {
    const sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
    t.after(() => sim.stop());
    const bodies: string[] = [];
    const contentTypes = new Set<string>();
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          bodies.push(body);
          contentTypes.add(req.headers['content-type'] ?? '');
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    t.after(() => receiver.close());
    const addr = receiver.address();
    const receiverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/v1/traces`;

    const { code, output } = await runGateway({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiverUrl, OTEL_SERVICE_NAME: 'gw-under-test', GATEWAY_SPAN_EXPORT: mode }, sim.grpcAddress, async (url) => {
      const res = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama-3-8b', prompt: 'export me', max_tokens: 2 }),
      });
      assert.equal(res.status, 200);
    });
    assert.equal(code, 0, output);
    assert.deepEqual([...contentTypes], ['application/x-protobuf'], 'OTLP/HTTP protobuf by default, as the specification says');
    // Protobuf keeps strings as they are, so the names can be found in the raw bytes.
    const all = bodies.join('\n');
    assert.ok(all.includes('gw-under-test'), 'the resource names the service');
    assert.ok(all.includes('POST /v1/completions'), 'the request span was exported');
    assert.ok(all.includes('gen_ai.request.model'));
  });
}

test('the Jaeger exporter starts from the OTEL_* variables without error', async (t) => {
  const sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
  t.after(() => sim.stop());
  const { code, output } = await runGateway(
    { OTEL_TRACES_EXPORTER: 'jaeger', OTEL_EXPORTER_JAEGER_AGENT_HOST: '127.0.0.1', OTEL_EXPORTER_JAEGER_AGENT_PORT: '6832' },
    sim.grpcAddress,
    async (url) => {
      assert.equal((await fetch(`${url}/livez`)).status, 200);
    },
  );
  assert.equal(code, 0, output);
  assert.ok(!/tracing not started/.test(output));
});
