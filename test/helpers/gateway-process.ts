/**
 * The gateway as a real child process (`src/server.ts` through tsx) with a generated config, for
 * what only a process shows: signals, the preloaded tracing SDK, exit codes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.js';
import { waitReady } from './stack.js';

export interface GatewayProcess {
  url: string;
  /** A fresh temporary directory: the config, the governance event log, anything else a test writes. */
  dir: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGKILL if it is still running (for `finally`). */
  kill(): void;
}

export interface GatewayProcessOptions {
  simGrpc: string;
  drainSeconds: number;
  /** Node flags before `--import tsx`, e.g. `['--heapsnapshot-signal=SIGUSR2']`; may use the process's `dir`. */
  nodeArgs?: (dir: string) => string[];
  /** Modules preloaded after tsx, e.g. `./src/telemetry/tracing.ts`. */
  preload?: string[];
  env?: Record<string, string>;
}

/** Starts the gateway in front of a simulator and waits for /readyz; a start that fails is killed. */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gw-process-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(
    configPath,
    stringify({
      server: { host: '127.0.0.1', port },
      triton: { targets: [{ name: 'primary', grpc: options.simGrpc }], healthIntervalMs: 200 },
      models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm' }],
      shutdown: { drainSeconds: options.drainSeconds },
    }),
  );
  const preload = (options.preload ?? []).flatMap((m) => ['--import', m]);
  const child = spawn(process.execPath, [...(options.nodeArgs?.(dir) ?? []), '--import', 'tsx', ...preload, 'src/server.ts'], {
    env: { ...process.env, GATEWAY_EVENT_LOG: join(dir, 'events.jsonl'), GATEWAY_CONFIG: configPath, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, 20_000);
  } catch (err) {
    kill();
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return { url, dir, child, output: () => output, exited, kill };
}
