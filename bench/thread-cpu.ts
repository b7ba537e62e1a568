/**
 * Where a warm gateway's CPU goes, by thread: its CPU per request at one rate, split into the
 * main thread (the event loop) and each other thread, from /proc/<pid>/task/<tid>/stat. With
 * tracing on, the busiest thread after the main one is the span export worker (it is absent with
 * `--observability off`); the next are V8's helper threads (GC, compilation) and libuv's pool.
 * The process figure that scenario 1 and compare.ts report is their sum.
 *
 *   npx tsx bench/thread-cpu.ts [--rate 500] [--rounds 3] [--seconds 4] [--observability on|off] [--dist DIR] [--no-build]
 *
 * Prints a markdown table; writes nothing.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCommandLine, refuseOption } from './lib/command-line.js';
import { progressLogger } from './lib/context.js';
import { completionClient } from './lib/gateway-client.js';
import { runOpenLoop } from './lib/open-loop.js';
import { startOtlpSink } from './lib/otlp-sink.js';
import { threadCpuSeconds } from './lib/proc-stats.js';
import { benchModel, buildDist, repoRoot, startGateway, startSim } from './lib/processes.js';
import { table } from './lib/report.js';
import { warmUp } from './lib/warm-up.js';

const usage = 'usage: tsx bench/thread-cpu.ts [--rate N] [--rounds N] [--seconds N] [--observability on|off] [--dist DIR] [--no-build]';
const { values } = parseCommandLine({
  options: {
    rate: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    observability: { type: 'string', default: 'on' },
    dist: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
}, usage);
const rate = Number(values.rate);
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
for (const [name, n] of Object.entries({ rate, rounds, seconds })) {
  if (!(n > 0) || !Number.isFinite(n)) refuseOption(`--${name} expects a positive number`, usage);
}
if (values.observability !== 'on' && values.observability !== 'off') refuseOption(`--observability expects on or off, not '${values.observability}'`, usage);
const observability = values.observability;

const log = progressLogger();
if (!values.dist && !values['no-build']) buildDist(log);
const workDir = join(repoRoot, '.tmp', `thread-cpu-${Date.now()}`);
mkdirSync(workDir, { recursive: true });
const sim = await startSim({ runtime: 'dist', workDir });
const sink = await startOtlpSink();
const gateway = await startGateway({
  runtime: 'dist',
  workDir,
  label: 'thread-cpu',
  sim,
  observability,
  otlpEndpoint: sink.endpoint,
  ...(values.dist ? { distDir: resolve(values.dist) } : {}),
});
const client = completionClient(gateway.url, benchModel, { maxTokens: 16, streamTokens: 16 });
try {
  await warmUp({ quick: false, log }, 'the gateway', (i) => client.complete(i));
  const used = new Map<number, number>();
  let completed = 0;
  for (let r = 0; r < rounds; r++) {
    const before = threadCpuSeconds(gateway.pid);
    const run = await runOpenLoop({ rate, durationMs: seconds * 1000, send: (i) => client.complete(i), drainTimeoutMs: 10_000 });
    const after = threadCpuSeconds(gateway.pid);
    completed += run.completed;
    for (const [tid, cpu] of after) used.set(tid, (used.get(tid) ?? 0) + cpu - (before.get(tid) ?? 0));
    log(`round ${r + 1}: ${run.completed} requests`);
  }
  const perRequestUs = (cpu: number): number => (cpu / completed) * 1e6;
  const rows = [...used].filter(([, cpu]) => cpu > 0).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, cpu]) => sum + cpu, 0);
  process.stdout.write(
    `\n${rate} req/s, observability ${observability}, ${rounds} round(s) of ${seconds} s after the warm-up; ${completed} requests\n\n` +
      table(
        ['thread', 'CPU per request (µs)'],
        [...rows.map(([tid, cpu]) => [tid === gateway.pid ? `main (${tid})` : String(tid), perRequestUs(cpu).toFixed(0)]), ['all', perRequestUs(total).toFixed(0)]],
      ) +
      '\n',
  );
} finally {
  client.close();
  await gateway.stop();
  await sim.stop();
  await sink.close();
}
