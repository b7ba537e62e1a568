/**
 * The simulator and the gateway as child processes, so the load generator (this process) does
 * not share an event loop, or a V8 heap, with what it measures.
 *
 * Runtime `tsx` runs the TypeScript sources through tsx's loader; `dist` runs the output of
 * `npm run build` as `npm start` does. Once the modules are loaded both run the same JavaScript;
 * bench/README.md says which one the published numbers used.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify as toYaml } from 'yaml';

export type Runtime = 'tsx' | 'dist';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildHandle {
  pid: number;
  child: ChildProcess;
  stderrTail(): string;
  stop(): Promise<void>;
}

export function keepTail(child: ChildProcess, limit = 8_000): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail = (tail + s).slice(-limit);
  });
  return () => tail;
}

/** Node flags given as one string (`BENCH_GATEWAY_NODE_FLAGS="--cpu-prof --cpu-prof-dir /tmp/p"`). */
export function nodeFlagList(text: string | undefined): string[] {
  return text?.split(/\s+/).filter(Boolean) ?? [];
}

export async function stopChild(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

export interface ReadyChild {
  child: ChildProcess;
  /** The `key=value` fields of the ready line that were asked for. */
  fields: Record<string, string>;
  stderrTail(): string;
}

/**
 * Runs `node <args>` from the repository root (where `--import tsx` resolves) and waits for its
 * first stdout line: each of the benchmark's child programs prints one ready line of `key=value`
 * fields. An exit before it, or a line without every field in `expect`, stops the child and
 * throws with the end of its stderr. `stdin: 'pipe'` for children that exit when it closes;
 * `node` for another Node binary than this process's; `onLine` for the stdout lines after the
 * ready one (otherwise they are read and dropped).
 */
export async function spawnNodeUntilReady(
  args: string[],
  name: string,
  expect: string[],
  opts: { stdin?: 'pipe' | 'ignore'; node?: string; onLine?: (line: string) => void } = {},
): Promise<ReadyChild> {
  const child = spawn(opts.node ?? process.execPath, args, { cwd: repoRoot, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  const stderrTail = keepTail(child);
  const lines = createInterface({ input: child.stdout! });
  try {
    const [line] = (await Promise.race([
      once(lines, 'line'),
      once(child, 'exit').then(() => {
        throw new Error(`${name} exited before it was ready:\n${stderrTail()}`);
      }),
    ])) as [string];
    const fields: Record<string, string> = {};
    for (const key of expect) {
      const value = new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(line)?.[1];
      if (value === undefined) throw new Error(`unexpected ready line from ${name} (no ${key}=): ${line}`);
      fields[key] = value;
    }
    return { child, fields, stderrTail };
  } catch (err) {
    await stopChild(child, 5_000);
    throw err;
  } finally {
    if (opts.onLine && child.exitCode === null) {
      lines.on('line', opts.onLine);
    } else {
      // Nothing else is read from stdout; keep the pipe drained so the child never blocks on it.
      lines.close();
      child.stdout!.resume();
    }
  }
}

/** `npm run build`, so the children run the current sources from dist/ (every entry point's `--no-build` skips it). */
export function buildDist(log: (line: string) => void): void {
  log('building dist/ (npm run build; --no-build to skip)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
}

/** A port that was free a moment ago (the gateway needs its port before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

// ---- simulator ----

export interface SimProcess extends ChildHandle {
  grpcAddress: string;
  metricsUrl: string;
  httpUrl: string;
}

export interface SimOptions {
  runtime: Runtime;
  workDir: string;
  /** ms until the first token. */
  ttftMs?: number;
  /** ms per token after the first. */
  tpotMs?: number;
}

/** The benchmark model: the default ensemble, with a concurrency high enough not to queue. */
function simModelsYaml(options: SimOptions): string {
  return toYaml({
    latency: { timeToFirstTokenMs: options.ttftMs ?? 0, timePerTokenMs: options.tpotMs ?? 0 },
    models: [
      {
        name: 'llama-3-8b-trtllm',
        flavour: 'ensemble',
        maxBatchSize: 64,
        // The simulator's default 256 would queue 1,000 streams.
        concurrency: 4096,
        parameters: { engine_hash: 'sha256:7c1e2a9b44d0', quantisation: 'fp8', gpt_model_type: 'inflight_fused_batching', enable_kv_cache_reuse: 'true' },
        speculative: { draftTokens: 4, acceptanceRate: 0.7 },
        weightsBytes: 9 * 1024 ** 3,
      },
    ],
  });
}

export async function startSim(options: SimOptions): Promise<SimProcess> {
  mkdirSync(options.workDir, { recursive: true });
  const modelsFile = join(options.workDir, `sim-models-${options.ttftMs ?? 0}-${options.tpotMs ?? 0}.yaml`);
  writeFileSync(modelsFile, simModelsYaml(options));
  const entry = [
    ...nodeFlagList(process.env.BENCH_SIM_NODE_FLAGS),
    ...(options.runtime === 'tsx' ? ['--import', 'tsx', join(repoRoot, 'sim/bin.ts')] : [join(repoRoot, 'dist/sim/bin.js')]),
  ];
  const { child, fields, stderrTail } = await spawnNodeUntilReady(
    [...entry, '--grpc-port', '0', '--http-port', '0', '--metrics-port', '0', '--models', modelsFile],
    'triton-sim',
    ['grpc', 'http', 'metrics'],
  );
  const { grpc: grpcAddress, http: httpUrl, metrics: metricsUrl } = fields;
  return { pid: child.pid!, child, grpcAddress: grpcAddress!, httpUrl: httpUrl!, metricsUrl: metricsUrl!, stderrTail, stop: () => stopChild(child) };
}

// ---- gateway ----

export interface GatewayProcess extends ChildHandle {
  url: string;
  logFile: string;
  /** From spawn to the first 200 of /readyz (start-up and warm-up). */
  readyAfterMs: number;
  cpuProfDir: string | undefined;
}

export interface GatewayOptions {
  runtime: Runtime;
  workDir: string;
  /** A label for the files this gateway writes. */
  label: string;
  sim: SimProcess;
  /** Tracing to `otlpEndpoint` (sampled at 100%), metrics and info logs; or all three off. */
  observability: 'on' | 'off';
  otlpEndpoint?: string;
  /** Directory for `node --cpu-prof` output; unset = no profiling. */
  cpuProfDir?: string;
  /** Runtime `dist`: the build to run (default `dist/`); bench/compare.ts runs two builds side by side. */
  distDir?: string;
  /** Extra environment and top-level config keys (experiments: one observability part at a time). */
  env?: Record<string, string>;
  config?: Record<string, unknown>;
  /** The model's non-streamed requests share long-lived Triton streams (models[].multiplex). */
  multiplex?: boolean;
  /** Extra node flags (e.g. --trace-gc). */
  nodeFlags?: string[];
  /** The Node binary to run the gateway on (default: BENCH_GATEWAY_NODE, else this process's). */
  node?: string;
}

export const benchModel = 'llama-3-8b';
/** Lets the benchmark read /debug/diagnostics (heap, event-loop utilisation) of its own gateway. */
export const benchAdminToken = 'bench-admin-token-not-a-secret';

export function gatewayConfig(options: GatewayOptions, port: number): Record<string, unknown> {
  const on = options.observability === 'on';
  return {
    server: { host: '127.0.0.1', port },
    auth: { adminToken: benchAdminToken },
    triton: { targets: [{ name: 'sim', grpc: options.sim.grpcAddress, metricsUrl: options.sim.metricsUrl }] },
    models: [
      {
        name: benchModel,
        tritonModel: 'llama-3-8b-trtllm',
        maxTokens: 512,
        // Everything a real deployment would switch on: cost accounting and the queue-delay budget.
        pricing: { inputPerMillion: 0.5, outputPerMillion: 1.5 },
        maxCostUsd: 0.01,
        queueDelayBudgetUs: 1500,
        warmup: { prompt: 'Say hello.', maxTokens: 4, latencyBudgetMs: 30_000 },
        // Only when asked, so a build from before the option (--dist) still accepts the config.
        ...(options.multiplex ? { multiplex: true } : {}),
      },
    ],
    // Room for 1,000 open streams: admission is not what is being measured.
    admission: { maxInFlight: 4096, maxQueue: 4096, queueTimeoutMs: 10_000 },
    governance: { eventLog: join(options.workDir, `${options.label}-events.jsonl`) },
    shutdown: { drainSeconds: 1 },
    metrics: { enabled: on },
    logging: { level: on ? 'info' : 'silent' },
  };
}

async function waitReady(url: string, child: ChildProcess, stderrTail: () => string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`gateway exited (${child.exitCode}) before it was ready:\n${stderrTail()}`);
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) return;
    last = res ? await res.text() : 'no answer';
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway not ready after ${timeoutMs} ms: ${last}\n${stderrTail()}`);
}

/**
 * The environment the image gives the gateway (Dockerfile ENV) where it changes performance:
 * production mode, and two glibc malloc arenas (10-16 MB less RSS at 1,000 streams). A
 * MALLOC_ARENA_MAX already set in the benchmark's environment wins, for A/B runs.
 */
export function gatewayProcessEnv(base: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return { ...base, NODE_ENV: 'production', MALLOC_ARENA_MAX: base.MALLOC_ARENA_MAX ?? '2' };
}

export async function startGateway(options: GatewayOptions): Promise<GatewayProcess> {
  mkdirSync(options.workDir, { recursive: true });
  const port = await freePort();
  const configFile = join(options.workDir, `${options.label}.yaml`);
  writeFileSync(configFile, toYaml({ ...gatewayConfig(options, port), ...options.config }));
  const logFile = join(options.workDir, `${options.label}.log`);
  const on = options.observability === 'on';
  const env: Record<string, string | undefined> = {
    ...gatewayProcessEnv(process.env),
    GATEWAY_CONFIG: configFile,
    OTEL_SERVICE_NAME: 'triton-gateway-bench',
  };
  if (on) {
    if (!options.otlpEndpoint) throw new Error('observability on needs an OTLP endpoint');
    Object.assign(env, {
      OTEL_SDK_DISABLED: 'false',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: options.otlpEndpoint,
      OTEL_TRACES_SAMPLER: 'always_on',
    });
  } else {
    Object.assign(env, { OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'none' });
  }
  const dist = options.distDir ?? join(repoRoot, 'dist');
  Object.assign(env, options.env);
  const tracing = options.runtime === 'tsx' ? join(repoRoot, 'src/telemetry/tracing.ts') : join(dist, 'src/telemetry/tracing.js');
  const server = options.runtime === 'tsx' ? join(repoRoot, 'src/server.ts') : join(dist, 'src/server.js');
  const nodeArgs = [
    ...(options.nodeFlags ?? []),
    // Experiments without code changes: BENCH_GATEWAY_NODE_FLAGS="--trace-gc" npm run bench …
    ...nodeFlagList(process.env.BENCH_GATEWAY_NODE_FLAGS),
    ...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []),
    ...(options.runtime === 'tsx' ? ['--import', 'tsx'] : []),
    '--import',
    pathToFileURL(tracing).href,
    server,
  ];
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
  // Logs go to a file, as they would to a log shipper: the write cost stays in the measurement.
  const logFd = openSync(logFile, 'w');
  const spawnedAt = performance.now();
  // BENCH_GATEWAY_NODE runs the gateway on another Node binary than the load generator's, to tell
  // which side a runtime difference is on (bench/README.md).
  const child = spawn(options.node ?? process.env.BENCH_GATEWAY_NODE ?? process.execPath, nodeArgs, { cwd: repoRoot, env, stdio: ['ignore', logFd, 'pipe'] });
  closeSync(logFd);
  const stderrTail = keepTail(child);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child, stderrTail);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  const readyAfterMs = performance.now() - spawnedAt;
  return { pid: child.pid!, child, url, logFile, readyAfterMs, cpuProfDir: options.cpuProfDir, stderrTail, stop: () => stopChild(child) };
}

export interface GatewayRuntimeStats {
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  rssBytes: number;
  eventLoopUtilization: number | null;
}

/** Heap and event-loop figures from the gateway's own /debug/diagnostics. */
export async function gatewayRuntimeStats(url: string): Promise<GatewayRuntimeStats | undefined> {
  const res = await fetch(`${url}/debug/diagnostics`, { headers: { authorization: `Bearer ${benchAdminToken}` } }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const body = (await res.json()) as { process?: { memory?: Record<string, number>; eventLoop?: { utilization?: number | null } } };
  const mem = body.process?.memory ?? {};
  return {
    heapUsedBytes: mem.heapUsedBytes ?? Number.NaN,
    heapTotalBytes: mem.heapTotalBytes ?? Number.NaN,
    externalBytes: mem.externalBytes ?? Number.NaN,
    rssBytes: mem.rssBytes ?? Number.NaN,
    eventLoopUtilization: body.process?.eventLoop?.utilization ?? null,
  };
}
