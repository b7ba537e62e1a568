/**
 * Starts `bench/bare-relay-process.ts` (the least a Node gateway does: see that file) in front
 * of a simulator, as a child process so its CPU and RSS can be read from /proc.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { keepTail, repoRoot, stopChild, type ChildHandle } from './processes.js';

export interface BareRelay extends ChildHandle {
  url: string;
}

const program = fileURLToPath(new URL('../bare-relay-process.ts', import.meta.url));

/**
 * `compileTo`: compile the relay with tsc into that directory (inside the repository, so
 * node_modules resolves) and run the JavaScript, as the gateway runs from dist/. Under tsx its
 * RSS would include the loader's caches (45-70 MiB for the gateway); the test runs it under tsx.
 */
function entry(compileTo: string | undefined): string[] {
  if (compileTo === undefined) return ['--import', 'tsx', program];
  const compiled = join(compileTo, 'bench/bare-relay-process.js');
  if (existsSync(compiled)) return [compiled];
  execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'bench/tsconfig.bare-relay.json'), '--outDir', compileTo], { cwd: repoRoot, stdio: 'inherit' });
  return [compiled];
}

export async function startBareRelay(grpcAddress: string, tritonModel: string, opts: { compileTo?: string } = {}): Promise<BareRelay> {
  // Experiments without code changes, as for the gateway: BENCH_RELAY_NODE_FLAGS="--cpu-prof --cpu-prof-dir /tmp/p"
  const flags = process.env.BENCH_RELAY_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...flags, ...entry(opts.compileTo), '--grpc', grpcAddress, '--model', tritonModel], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderrTail = keepTail(child);
  const lines = createInterface({ input: child.stdout! });
  let line: string;
  try {
    [line] = (await Promise.race([
      once(lines, 'line'),
      once(child, 'exit').then(() => {
        throw new Error(`bare relay exited before it was ready:\n${stderrTail()}`);
      }),
    ])) as [string];
  } catch (err) {
    await stopChild(child, 5_000);
    throw err;
  }
  const url = /url=(\S+)/.exec(line)?.[1];
  if (!url) {
    await stopChild(child, 5_000);
    throw new Error(`unexpected ready line from the bare relay: ${line}`);
  }
  return { pid: child.pid!, child, url, stderrTail, stop: () => stopChild(child, 5_000) };
}
