/**
 * Starts the real simulator and a real gateway on loopback ports, for integration tests.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { parseConfig, type GatewayConfig } from '../../src/config.js';
import { startSimulator, type RunningSimulator, type StartSimulatorOptions } from '../../sim/index.js';
import { LogSink } from './log-sink.js';

export interface Stack {
  sim: RunningSimulator;
  app: FastifyInstance;
  url: string;
  config: GatewayConfig;
  logs: LogSink;
  close(): Promise<void>;
}

export const testModels = [
  { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', maxTokens: 512 },
  { name: 'qwen3', tritonModel: 'qwen3-vllm', maxTokens: 512 },
];

export interface StackOptions {
  /** Raw gateway config merged over the defaults below (models replace the defaults). */
  config?: Record<string, unknown>;
  sim?: StartSimulatorOptions;
  /** Wait for the strict /readyz (every model warmed up) before returning (default true). */
  waitReady?: boolean;
  env?: Record<string, string>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0, ...options.sim });
  const { triton, governance, ...rest } = (options.config ?? {}) as { triton?: Record<string, unknown>; governance?: Record<string, unknown> };
  const raw = {
    server: { host: '127.0.0.1', port: 0 },
    // Tests fail fast: short health interval and warm-up retry backoff.
    triton: {
      targets: [{ name: 'primary', grpc: sim.grpcAddress, metricsUrl: sim.metricsUrl }],
      healthIntervalMs: 200,
      metricsIntervalMs: 200,
      warmupRetryMaxMs: 1000,
      ...triton,
    },
    models: testModels,
    logging: { level: 'info' },
    // Each stack writes its governance events to a fresh temporary file, never into the checkout.
    governance: { eventLog: join(mkdtempSync(join(tmpdir(), 'gw-events-')), 'governance-events.jsonl'), ...governance },
    ...rest,
  };
  const config = parseConfig(raw, options.env ?? {});
  const { app, url, logs } = await startGateway(config);
  if (options.waitReady !== false) await waitReady(url);
  return {
    sim,
    app,
    url,
    config,
    logs,
    async close() {
      // app.close() cuts every connection still open (forceCloseConnections in src/app.ts).
      await app.close();
      await sim.stop();
    },
  };
}

/** A gateway alone on a loopback port, for a config the caller parsed (e.g. a second replica in front of a running simulator). */
export async function startGateway(config: GatewayConfig): Promise<{ app: FastifyInstance; url: string; logs: LogSink }> {
  const logs = new LogSink();
  const app = await buildApp(config, { logDestination: logs });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, url: `http://127.0.0.1:${port}`, logs };
}

/** Strict: the plain /readyz turns 200 with the first servable model, before the others warm up. */
export async function waitReady(url: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const res = await fetch(`${url}/readyz?strict=1`).catch(() => undefined);
    if (res?.status === 200) return;
    last = res ? await res.text() : 'no answer';
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gateway not ready after ${timeoutMs} ms: ${last}`);
}

/** Polls until `check` is true (bounded); for state that changes in the background. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
