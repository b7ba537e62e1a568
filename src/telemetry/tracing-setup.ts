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
 * SDK's BatchSpanProcessor (OTEL_BSP_*) run in a worker thread (worker-span-processor.ts).
 */
import { ROOT_CONTEXT, type ContextManager } from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { buildInfo } from '../build-info.js';

type Env = Record<string, string | undefined>;

export type ExporterKind = 'otlp' | 'jaeger' | 'console' | 'none';

export function exporterKind(env: Env): ExporterKind {
  if (env.OTEL_SDK_DISABLED === 'true') return 'none';
  const kind = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',')[0]!.trim().toLowerCase();
  if (kind === 'otlp' || kind === 'jaeger' || kind === 'console' || kind === 'none') return kind;
  throw new Error(`OTEL_TRACES_EXPORTER=${kind} is not supported (otlp, jaeger, console, none)`);
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export function otlpProtocol(env: Env): OtlpProtocol {
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
      // slower encoding (A/B in README, Performance).
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

export async function startTracing(env: Env = process.env): Promise<NodeSDK | undefined> {
  if (sdk) return sdk;
  // The exporter itself is made in the export worker; a bad OTEL_* value still stops start-up here.
  if (exporterKind(env) === 'none') return undefined;
  if (exporterKind(env) === 'otlp') otlpProtocol(env);
  const [{ NodeSDK }, { resourceFromAttributes }, { WorkerSpanProcessor }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/resources'),
    import('./worker-span-processor.js'),
  ]);
  // Spans are serialised and sent by a worker thread, not between requests (worker-span-processor.ts).
  const processor = new WorkerSpanProcessor({ env });
  try {
    await processor.ready;
  } catch (err) {
    await processor.shutdown().catch(() => undefined);
    throw err;
  }
  const build = buildInfo();
  sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME ?? 'triton-gateway',
      [ATTR_SERVICE_VERSION]: build.version,
      ...(build.commit ? { 'vcs.ref.head.revision': build.commit } : {}),
    }),
    spanProcessors: [processor],
    // Spans are made by the gateway itself (request, admission, Triton attempts); automatic
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
