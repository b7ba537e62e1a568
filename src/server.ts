/**
 * The process: load config, build the app, listen, and shut down gracefully.
 *
 * On SIGTERM/SIGINT: /readyz turns 503 and new inference requests get 503 at once; in-flight
 * requests and streams get up to `shutdown.drainSeconds` to finish; then the server and the
 * Triton channels close and the process exits 0. A second signal, or an uncaught error, ends it
 * at once with a non-zero code.
 */
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type GatewayConfig } from './config.js';
import { shutdownTracing } from './telemetry/tracing-setup.js';

async function waitForDrain(app: Awaited<ReturnType<typeof buildApp>>, deadline: number): Promise<number> {
  const { active, admission } = app.services;
  while ((active.size > 0 || admission.state.inFlight > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return active.size;
}

async function main(): Promise<void> {
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
  closeWithGrace({ delay: drainMs + 10_000, skip: ['SIGUSR2'] }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an uncaught error');
    app.log.info({ signal, drain_ms: drainMs, in_flight: app.services.active.size }, 'draining');
    app.services.lifecycle.draining = true;
    const left = await waitForDrain(app, Date.now() + drainMs);
    if (left > 0) app.log.warn({ in_flight: left }, 'drain time over; closing with requests still in flight');
    await app.close();
    await shutdownTracing().catch(() => undefined);
    app.log.info('stopped');
  });

  await app.listen({ port: config.server.port, host: config.server.host });
}

main().catch((err: unknown) => {
  process.stderr.write(`triton-gateway: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
