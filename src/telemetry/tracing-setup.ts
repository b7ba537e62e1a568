/**
 * OpenTelemetry set-up, driven by the standard OTEL_* variables:
 * - OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none: no SDK (spans are no-ops).
 * - OTEL_TRACES_EXPORTER=otlp (default): OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT /
 *   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (default http://localhost:4318/v1/traces), encoded as
 *   OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL says: `http/protobuf` (the
 *   specification's default, which every OTLP receiver must accept) or `http/json`.
 * - OTEL_TRACES_EXPORTER=jaeger: @opentelemetry/exporter-jaeger (OTEL_EXPORTER_JAEGER_*). Jaeger
 *   also accepts OTLP directly, which is the better choice for new deployments.
 * - OTEL_TRACES_EXPORTER=console: spans on stdout, for debugging.
 * OTEL_SERVICE_NAME names the service (default triton-gateway); sampling follows
 * OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the SDK reads them. The exporter and the
 * SDK's BatchSpanProcessor (OTEL_BSP_*) run in a worker thread (worker-span-processor.ts), or on
 * the event loop with GATEWAY_SPAN_EXPORT=inline (spanExport below).
 */
import { ROOT_CONTEXT, type ContextManager } from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { buildInfo } from '../build-info.js';

type Env = Record<string, string | undefined>;

export type ExporterKind = 'otlp' | 'jaeger' | 'console' | 'none';

function exporterKind(env: Env): ExporterKind {
  if (env.OTEL_SDK_DISABLED === 'true') return 'none';
  const kind = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',')[0]!.trim().toLowerCase();
  if (kind === 'otlp' || kind === 'jaeger' || kind === 'console' || kind === 'none') return kind;
  throw new Error(`OTEL_TRACES_EXPORTER=${kind} is not supported (otlp, jaeger, console, none)`);
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

function otlpProtocol(env: Env): OtlpProtocol {
  const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (env[name] ?? 'http/protobuf').trim().toLowerCase();
  if (protocol === 'http/protobuf' || protocol === 'http/json') return protocol;
  throw new Error(`${name}=${protocol} is not supported (http/protobuf, http/json)`);
}

/**
 * The exporter, loaded on demand: the SDK and the exporters are imported only when tracing is
 * on, and only the one selected (the Jaeger exporter and its Thrift client alone were ~10 MiB
 * of resident memory that an OTLP deployment never used).
 */
export async function createTraceExporter(env: Env): Promise<SpanExporter | undefined> {
  switch (exporterKind(env)) {
    case 'otlp':
      // Protobuf by default: a JSON export is 2.5× the bytes, and at 500 req/s with every
      // request traced its strings and writes cost the event loop more than protobuf's slightly
      // slower encoding (A/B in bench/HISTORY.md, OTLP as protobuf by default).
      return otlpProtocol(env) === 'http/json'
        ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter()
        : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
    case 'jaeger':
      return new (await import('@opentelemetry/exporter-jaeger')).JaegerExporter();
    case 'console':
      return new (await import('@opentelemetry/sdk-trace-base')).ConsoleSpanExporter();
    case 'none':
      return undefined;
  }
}

let sdk: NodeSDK | undefined;

/** A context manager that propagates nothing: the active context is always the root. */
const explicitContextOnly: ContextManager = {
  active: () => ROOT_CONTEXT,
  with: (_context, fn, thisArg, ...args) => fn.call(thisArg, ...args),
  bind: (_context, target) => target,
  enable() {
    return this;
  },
  disable() {
    return this;
  },
};

/**
 * The BatchSpanProcessor's export batch size for each place spans are exported from. Inline, 64
 * spans, not the SDK's 512: serialising 512 took ~8 ms, a p99 step on the event loop. In the
 * worker, the SDK's 512: exporting in batches of 64 cost the worker's thread 42–52 µs per request,
 * in batches of 512 28–30 (bench/HISTORY.md, export batches of 512 in the span worker). The standard
 * OTEL_BSP_MAX_EXPORT_BATCH_SIZE still wins in both.
 */
export function batchSpanProcessorConfig(env: Env, where: SpanExport): { maxExportBatchSize?: number } {
  return env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE === undefined && where === 'inline' ? { maxExportBatchSize: 64 } : {};
}

export type SpanExport = 'worker' | 'inline';

/**
 * Where spans are serialised and sent (GATEWAY_SPAN_EXPORT): `worker`, the default, in a worker
 * thread (worker-span-processor.ts); `inline`, the SDK's BatchSpanProcessor on the event loop,
 * for a gateway confined to one core, where the worker's thread would compete with the event
 * loop, or short of the worker's ~15 MB (bench/HISTORY.md, span export in a worker thread, has both measured).
 */
export function spanExport(env: Env): SpanExport {
  const value = (env.GATEWAY_SPAN_EXPORT ?? 'worker').trim().toLowerCase();
  if (value === 'worker' || value === 'inline') return value;
  throw new Error(`GATEWAY_SPAN_EXPORT=${value} is not supported (worker, inline)`);
}

export async function createSpanProcessor(env: Env): Promise<SpanProcessor> {
  if (spanExport(env) === 'inline') {
    const exporter = await createTraceExporter(env);
    const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { reportingExportFailures, exportFailingText, EXPORT_RECOVERED_TEXT } = await import('./export-failure-reporter.js');
    const say = (text: string): void => void process.stderr.write(`triton-gateway: ${text}\n`);
    const reporting = reportingExportFailures(exporter!, { failing: (message) => say(exportFailingText(message)), recovered: () => say(EXPORT_RECOVERED_TEXT) });
    return new BatchSpanProcessor(reporting, batchSpanProcessorConfig(env, 'inline'));
  }
  // The exporter itself is made in the worker, which reports a bad OTEL_* value through `ready`.
  const { WorkerSpanProcessor } = await import('./worker-span-processor.js');
  const processor = new WorkerSpanProcessor({ env });
  try {
    await processor.ready;
  } catch (err) {
    await processor.shutdown().catch(() => undefined);
    throw err;
  }
  return processor;
}

export async function startTracing(env: Env = process.env): Promise<NodeSDK | undefined> {
  if (sdk) return sdk;
  if (exporterKind(env) === 'none') return undefined;
  // Bad values stop start-up before any thread or module is started for them.
  if (exporterKind(env) === 'otlp') otlpProtocol(env);
  spanExport(env);
  const [{ NodeSDK }, { resourceFromAttributes }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/resources')]);
  const processor = await createSpanProcessor(env);
  const build = buildInfo();
  sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME ?? 'triton-gateway',
      [ATTR_SERVICE_VERSION]: build.version,
      ...(build.commit ? { 'vcs.ref.head.revision': build.commit } : {}),
    }),
    spanProcessors: [processor],
    // Traces only. Given no readers and no log processors, NodeSDK makes its own from
    // OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER, and when those are unset it defaults to
    // OTLP: a MeterProvider polled every 60 s and a batching LoggerProvider, each exporting to
    // OTEL_EXPORTER_OTLP_ENDPOINT (localhost:4318 when unset, the Jaeger exporter's case too).
    // The gateway's metrics are prom-client's on /metrics and its logs pino's on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    // Spans are made by the gateway itself (the request, with an `admitted` event, and each Triton attempt); automatic
    // http/grpc instrumentation would add a second, less useful set on the hot path.
    instrumentations: [],
    // Every span names its parent explicitly and nothing reads the active context, so the
    // default AsyncLocalStorage manager (a promise hook on every promise of the process, a few
    // per cent of the CPU per request; bench/) would buy nothing. Code that starts relying on
    // context.with() or auto-instrumentation must remove this line.
    contextManager: explicitContextOnly,
  });
  sdk.start();
  return sdk;
}

/** Flushes and stops the SDK (called on shutdown so the last spans are exported). */
export async function shutdownTracing(): Promise<void> {
  const current = sdk;
  sdk = undefined;
  await current?.shutdown();
}
