/**
 * Starts `bench/bare-relay-process.ts` (the least a Node gateway does: see that file) in front
 * of a simulator, as a child process so its CPU and RSS can be read from /proc.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFlagList, repoRoot, spawnNodeUntilReady, stopChild, type ChildHandle } from './processes.js';

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
  const flags = nodeFlagList(process.env.BENCH_RELAY_NODE_FLAGS);
  // The relay stands in for the gateway, so it runs on the gateway's Node (BENCH_GATEWAY_NODE) too:
  // the floor of the runtime that is being measured.
  const { child, fields, stderrTail } = await spawnNodeUntilReady([...flags, ...entry(opts.compileTo), '--grpc', grpcAddress, '--model', tritonModel], 'bare relay', ['url'], {
    node: process.env.BENCH_GATEWAY_NODE,
  });
  const url = fields.url!;
  return { pid: child.pid!, child, url, stderrTail, stop: () => stopChild(child, 5_000) };
}
