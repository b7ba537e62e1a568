/**
 * The process: load config, build the app, listen, and shut down gracefully.
 *
 * On SIGTERM/SIGINT: /readyz turns 503 and new inference requests get 503 at once; in-flight
 * requests and streams get up to `shutdown.drainSeconds` to finish; those still running then are
 * ended (a stream with an SSE `error` event, others with a 503, each recorded), the server and the
 * Triton channels close, traces are flushed and the process exits 0 (src/shutdown.ts). A second
 * signal, or an uncaught error, ends it at once with a non-zero code.
 */
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type GatewayConfig } from './config.js';
import { drainAndClose } from './shutdown.js';
import { installFlatCallTables } from './triton/flat-call-tables.js';
import { installLeanAsyncResourceBind } from './triton/lean-async-resource-bind.js';
import { shutdownTracing } from './telemetry/tracing-setup.js';

/** The longest the last spans may take to export: a collector that is down must not hold the exit. */
const traceFlushMs = 3_000;

/**
 * close-with-grace's own timer, only a backstop past the drain: drainAndClose ends in about
 * drainSeconds + 1 s, plus the app's onClose hooks (the governance webhook gets up to 2 s) and
 * the trace flush.
 */
const closeBackstopMs = 10_000;

async function flushTraces(): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, traceFlushMs)));
  await Promise.race([shutdownTracing().catch(() => undefined), timedOut]);
  clearTimeout(timer);
}

async function main(): Promise<void> {
  // Before the first gRPC call: Node's AsyncResource#bind makes every HTTP/2 request's objects
  // outlive their request until a full GC (src/triton/lean-async-resource-bind.ts).
  installLeanAsyncResourceBind();
  // And the hash tables of calls in flight on each connection do the same, some runs, for the
  // process's whole life (src/triton/flat-call-tables.ts).
  installFlatCallTables();
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`triton-gateway: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(config);
  } catch (err) {
    // Problems only found while building (e.g. a chat template that does not parse) are config problems too.
    if (err instanceof ConfigError) {
      process.stderr.write(`triton-gateway: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const drainMs = config.shutdown.drainSeconds * 1000;

  // SIGUSR2 is Node's customary heap-snapshot signal (`node --heapsnapshot-signal=SIGUSR2`), so it
  // must not stop the gateway: close-with-grace drains on it by default, and with no listener at
  // all its default action would kill the process without a drain.
  process.on('SIGUSR2', () => app.log.info({ signal: 'SIGUSR2' }, 'SIGUSR2 does not stop the gateway (with --heapsnapshot-signal=SIGUSR2 it writes a heap snapshot)'));
  // close-with-grace's own messages ("killed by timeout", "second SIGTERM, exiting") as JSON log lines.
  closeWithGrace({ delay: drainMs + closeBackstopMs, skip: ['SIGUSR2'], logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an uncaught error');
    app.log.info({ signal, drain_ms: drainMs, in_flight: app.services.active.size }, 'draining');
    await drainAndClose(app, drainMs);
    await flushTraces();
    // pino writes what is still buffered when close-with-grace exits the process.
    app.log.info('stopped');
  });

  await app.listen({ port: config.server.port, host: config.server.host });
}

main().catch((err: unknown) => {
  process.stderr.write(`triton-gateway: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
