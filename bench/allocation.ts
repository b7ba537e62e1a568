/**
 * What the gateway allocates per non-streamed request, from V8's own GC trace: one or two builds
 * side by side against one simulator, at one open-loop rate. Unlike latency and CPU, the bytes
 * allocated per request hardly depend on how busy the machine is, so this is how a change to the
 * hot path shows its effect on a noisy 2-core VM (every scavenge stalls every request in flight).
 *
 *   npm run build && npx tsx bench/allocation.ts                       # dist/
 *   npx tsx bench/allocation.ts --a OLD_DIST --b dist [--rate 500] [--seconds 6] [--rounds 2] [--observability on|off]
 *
 * Per build: allocated and promoted (survived two scavenges) bytes per request, scavenges per
 * second with their mean and longest pause, and mark-compacts. Sums of `--trace-gc-nvp` lines
 * from the gateway's log over each measured phase.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { progressLogger, ms } from './lib/context.js';
import { warmUp } from './lib/warm-up.js';
import { completionClient } from './lib/gateway-client.js';
import { sumGcTrace, type GcSums } from './lib/gc-trace.js';
import { runOpenLoop } from './lib/open-loop.js';
import { startOtlpSink } from './lib/otlp-sink.js';
import { benchModel, repoRoot, startGateway, startSim } from './lib/processes.js';
import { table } from './lib/report.js';
import { parseCommandLine, refuseOption } from './lib/command-line.js';

const usage = 'usage: tsx bench/allocation.ts [--a DIST] [--b DIST] [--rate N] [--seconds N] [--rounds N] [--observability on|off]';
const { values } = parseCommandLine({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '2' },
    observability: { type: 'string', default: 'on' },
  },
}, usage);
const rate = Number(values.rate);
const durationMs = Number(values.seconds) * 1000;
const rounds = Number(values.rounds);
for (const [name, n] of Object.entries({ rate, seconds: durationMs, rounds })) {
  if (!(n > 0) || !Number.isFinite(n)) refuseOption(`--${name} expects a positive number`, usage);
}
if (!Number.isInteger(rounds)) refuseOption('--rounds expects a whole number', usage);
if (values.observability !== 'on' && values.observability !== 'off') refuseOption(`--observability expects on or off, not '${values.observability}'`, usage);
const observability = values.observability;

interface Measured extends GcSums {
  requests: number;
  errors: number;
  seconds: number;
}

async function main(): Promise<void> {
  const log = progressLogger();
  const workDir = join(repoRoot, '.tmp', `allocation-${Date.now()}`);
  mkdirSync(workDir, { recursive: true });
  const builds = { A: resolve(values.a ?? join(repoRoot, 'dist')), ...(values.b ? { B: resolve(values.b) } : {}) };
  const labels = Object.keys(builds) as Array<'A' | 'B'>;
  const sink = await startOtlpSink();
  const sim = await startSim({ runtime: 'dist', workDir });
  const gateways = await Promise.all(
    labels.map(async (label) => {
      const process = await startGateway({ runtime: 'dist', distDir: builds[label], workDir, label, sim, observability, otlpEndpoint: sink.endpoint, nodeFlags: ['--trace-gc-nvp'] });
      return { label, process, client: completionClient(process.url, benchModel, { maxTokens: 16, streamTokens: 16 }) };
    }),
  );
  log(`${labels.map((l) => `${l} = ${builds[l]}`).join(', ')}; ${rate} req/s, ${rounds} round(s) of ${durationMs / 1000} s each, observability ${observability}`);
  const results = new Map<string, Measured[]>();
  for (const g of gateways) await warmUp({ quick: false, log }, `gateway ${g.label}`, (i) => g.client.complete(i));
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? gateways : [...gateways].reverse();
      for (const g of order) {
        // The JIT was warmed above (lib/warm-up.ts); this settles connections and queues at the phase's rate.
        await runOpenLoop({ rate, durationMs: 1500, send: (i) => g.client.complete(i), drainTimeoutMs: 5_000 });
        const from = statSync(g.process.logFile).size;
        const run = await runOpenLoop({ rate, durationMs, send: (i) => g.client.complete(i), drainTimeoutMs: 10_000 });
        // `from` is a byte offset: slice the bytes, then decode.
        const text = readFileSync(g.process.logFile).subarray(from).toString('utf8');
        const m: Measured = { ...sumGcTrace(text), requests: run.completed, errors: run.errors + run.dropped, seconds: run.elapsedMs / 1000 };
        results.set(g.label, [...(results.get(g.label) ?? []), m]);
        log(`round ${r + 1} ${g.label}: ${ms(m.allocated / m.requests / 1000, 1)} KB/request allocated, ${ms(m.promoted / m.requests / 1000, 1)} KB promoted, ${m.scavenges} scavenges`);
      }
    }
  } finally {
    for (const g of gateways) {
      g.client.close();
      await g.process.stop();
    }
    await sim.stop();
    await sink.close();
  }
  const rows = labels.map((label) => {
    const runs = results.get(label) ?? [];
    const sum = (f: (m: Measured) => number): number => runs.reduce((n, m) => n + f(m), 0);
    const requests = sum((m) => m.requests);
    const scavenges = sum((m) => m.scavenges);
    return [
      `${label} (${builds[label]})`,
      String(requests),
      ms(sum((m) => m.allocated) / requests / 1000, 1),
      ms(sum((m) => m.promoted) / requests / 1000, 1),
      ms(scavenges / sum((m) => m.seconds), 1),
      ms(scavenges > 0 ? sum((m) => m.scavengePauseMs) / scavenges : Number.NaN, 2),
      ms(Math.max(...runs.map((m) => m.maxPauseMs)), 1),
      String(sum((m) => m.markCompacts)),
      String(sum((m) => m.errors)),
    ];
  });
  process.stdout.write(
    `\n${rate} req/s, observability ${observability}, ${rounds} round(s) of ${durationMs / 1000} s per build\n\n` +
      `${table(['build', 'requests', 'allocated KB/req', 'promoted KB/req', 'scavenges/s', 'mean scavenge pause (ms)', 'longest pause (ms)', 'mark-compacts', 'errors'], rows)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`allocation failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
