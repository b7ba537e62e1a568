/**
 * `npm run demo`: the Triton simulator and the gateway on loopback, with examples/demo.yaml.
 * Prints the URLs and a ready curl line; Ctrl-C stops both cleanly. Ports: DEMO_PORT (8080),
 * and the simulator on 8001 (gRPC), 8000 (HTTP) and 8002 (metrics).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { drainAndClose } from '../src/shutdown.js';
import { startSimulator } from '../sim/index.js';

const started = performance.now();
const simModels = 'examples/sim-models/default.yaml';
const sim = await startSimulator({
  grpcPort: Number(process.env.DEMO_SIM_GRPC_PORT ?? 8001),
  httpPort: Number(process.env.DEMO_SIM_HTTP_PORT ?? 8000),
  metricsPort: Number(process.env.DEMO_SIM_METRICS_PORT ?? 8002),
  ...(existsSync(simModels) ? { modelsFile: simModels } : {}),
}).catch((err: unknown) => {
  console.error(`demo: cannot start the simulator: ${(err as Error).message} (is something on ports 8000-8002? set DEMO_SIM_*_PORT)`);
  process.exit(1);
});

const adminToken = process.env.GATEWAY_ADMIN_TOKEN ?? `demo-${randomBytes(12).toString('hex')}`;
let config;
try {
  config = loadConfig({
    ...process.env,
    GATEWAY_CONFIG: process.env.GATEWAY_CONFIG ?? 'examples/demo.yaml',
    TRITON_GRPC_URL: sim.grpcAddress,
    TRITON_METRICS_URL: sim.metricsUrl,
    GATEWAY_ADMIN_TOKEN: adminToken,
    PORT: process.env.DEMO_PORT ?? process.env.PORT ?? '8080',
  });
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  await sim.stop();
  process.exit(2);
}
const app = await buildApp(config);
try {
  await app.listen({ host: config.server.host, port: config.server.port });
} catch (err) {
  console.error(`demo: cannot listen on ${config.server.host}:${config.server.port}: ${(err as Error).message} (set DEMO_PORT)`);
  await sim.stop();
  process.exit(1);
}
const url = `http://${config.server.host}:${config.server.port}`;

// Wait for the warm-ups so the printed curl line works at once.
const until = Date.now() + 15_000;
while (Date.now() < until && !app.services.registry.readiness().ready) await new Promise((r) => setTimeout(r, 100));
const readiness = app.services.registry.readiness();

process.stdout.write(`
triton-gateway demo ready in ${Math.round(performance.now() - started)} ms${readiness.ready ? '' : ` (not ready yet: ${readiness.reasons.join('; ')})`}
  gateway        ${url}   (models: ${app.services.registry.list().map((e) => e.config.name).join(', ')})
  metrics        ${url}/metrics
  diagnostics    curl -s -H 'authorization: Bearer ${adminToken}' ${url}/debug/diagnostics
  triton-sim     grpc ${sim.grpcAddress}, metrics ${sim.metricsUrl}, control ${sim.httpUrl}/control/state

Try:
  curl -s ${url}/v1/completions -H 'content-type: application/json' \\
    -d '{"model": "llama-3-8b", "prompt": "The capital of France is", "max_tokens": 16}'
  curl -s ${url}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model": "llama-3-8b", "messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 16}'

Ctrl-C stops both.
`);

let stopping = false;
/** As the gateway does (src/shutdown.ts): requests still running at the drain's deadline are ended, so a stop is never held longer. */
async function stop(signal: string): Promise<void> {
  if (stopping) process.exit(1);
  stopping = true;
  const drainSeconds = app.services.config.shutdown.drainSeconds;
  process.stdout.write(`\n${signal}: stopping the gateway (in-flight requests get up to ${drainSeconds} s; Ctrl-C again to quit now) and the simulator...\n`);
  await drainAndClose(app, drainSeconds * 1000);
  await sim.stop();
  process.stdout.write('stopped.\n');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
