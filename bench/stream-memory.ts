/**
 * The gateway's memory over repeated bursts of streams on one process: the RSS budget
 * (DESIGN §9) is read on the first 1,000-stream run of a fresh gateway; this says what later runs
 * do, and whether anything is kept. Each run opens `--streams` streams over 2 s against the
 * simulator at `--tpot` ms per token, waits for all to finish and 5 s more, and reads the
 * gateway's RSS peak and its heap figures. After the last run the gateway writes a heap snapshot
 * (it runs with `--heapsnapshot-signal=SIGUSR2`; V8 collects garbage first), whose live size is
 * what the runs left behind: compare it with the idle figure.
 *
 *   npx tsx bench/stream-memory.ts [--runs 4] [--streams 1000] [--tokens 128] [--tpot 50] [--no-build]
 *
 * Prints a markdown table and writes bench/results/stream-memory-<timestamp>.json.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ms, progressLogger } from './lib/context.js';
import { completionClient } from './lib/gateway-client.js';
import { readHeapSnapshot, type HeapSnapshotSummary } from './lib/heap-snapshot.js';
import { startOtlpSink } from './lib/otlp-sink.js';
import { machineInfo, rssBytes } from './lib/proc-stats.js';
import { benchModel, buildDist, gatewayRuntimeStats, repoRoot, startGateway, startSim, type GatewayRuntimeStats } from './lib/processes.js';
import { table } from './lib/report.js';
import { StreamTimings } from './lib/stream-timings.js';
import { parseCommandLine, refuseOption } from './lib/command-line.js';

const usage = 'usage: tsx bench/stream-memory.ts [--runs N] [--streams N] [--tokens N] [--tpot MS] [--no-build]';
const { values } = parseCommandLine({
  options: {
    runs: { type: 'string', default: '4' },
    streams: { type: 'string', default: '1000' },
    tokens: { type: 'string', default: '128' },
    tpot: { type: 'string', default: '50' },
    'no-build': { type: 'boolean', default: false },
  },
}, usage);
const runs = Number(values.runs);
const streams = Number(values.streams);
const tokens = Number(values.tokens);
const tpotMs = Number(values.tpot);
for (const [name, n] of Object.entries({ runs, streams, tokens, tpot: tpotMs })) {
  if (!(n > 0) || !Number.isInteger(n)) refuseOption(`--${name} expects a positive whole number`, usage);
}

const MB = 1e6;
const sleep = (t: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, t));

interface RunRow {
  run: number;
  completed: number;
  rssPeakBytes: number;
  /** /debug/diagnostics 5 s after the run's last stream ended. */
  after: GatewayRuntimeStats | undefined;
}

async function main(): Promise<void> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const log = progressLogger(started);
  const machine = machineInfo();
  const workDir = join(repoRoot, '.tmp', `stream-memory-${startedAt.replace(/[:.]/g, '-')}`);
  mkdirSync(workDir, { recursive: true });
  log(`stream memory: ${runs} runs of ${streams} streams × ${tokens} tokens at ${tpotMs} ms/token on one gateway; ${machine.cores} × ${machine.cpuModel}`);
  if (!values['no-build']) {
    buildDist(log);
  }
  const sink = await startOtlpSink();
  const sim = await startSim({ runtime: 'dist', workDir, ttftMs: tpotMs, tpotMs });
  const gw = await startGateway({
    runtime: 'dist',
    workDir,
    label: 'stream-memory',
    sim,
    observability: 'on',
    otlpEndpoint: sink.endpoint,
    nodeFlags: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${workDir}`],
  });
  const client = completionClient(gw.url, benchModel, { maxTokens: 16, streamTokens: tokens });
  const rows: RunRow[] = [];
  let idle: GatewayRuntimeStats | undefined;
  let snapshot: HeapSnapshotSummary | undefined;
  try {
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.stream(i, performance.now(), new StreamTimings(), 8)));
    await sleep(2_000);
    idle = await gatewayRuntimeStats(gw.url);
    log(`idle after warm-up: RSS ${((idle?.rssBytes ?? Number.NaN) / MB).toFixed(0)} MB, heap used ${((idle?.heapUsedBytes ?? Number.NaN) / MB).toFixed(0)} MB`);
    for (let run = 1; run <= runs; run++) {
      const timings = new StreamTimings();
      let rssPeakBytes = rssBytes(gw.pid);
      const sampler = setInterval(() => {
        rssPeakBytes = Math.max(rssPeakBytes, rssBytes(gw.pid));
      }, 100);
      const all: Array<Promise<boolean>> = [];
      // Opened over 2 s, as scenario 3 opens its background streams.
      const perTick = Math.max(1, Math.round(streams / 100));
      for (let i = 0; i < streams; i++) {
        all.push(client.stream(i, performance.now(), timings, tokens).then(() => true, () => false));
        if (i % perTick === perTick - 1) await sleep(20);
      }
      const completed = (await Promise.all(all)).filter(Boolean).length;
      clearInterval(sampler);
      await sleep(5_000);
      const after = await gatewayRuntimeStats(gw.url);
      rows.push({ run, completed, rssPeakBytes, after });
      log(`run ${run}: ${completed}/${streams} streams, RSS peak ${(rssPeakBytes / MB).toFixed(0)} MB, heap used after ${((after?.heapUsedBytes ?? Number.NaN) / MB).toFixed(0)} MB`);
    }
    log('heap snapshot (SIGUSR2)…');
    process.kill(gw.pid, 'SIGUSR2');
    const file = await waitForSnapshot(workDir, 60_000);
    snapshot = readHeapSnapshot(file, 8);
    log(`live heap after ${runs} runs: ${(snapshot.liveBytes / MB).toFixed(1)} MB`);
  } finally {
    client.close();
    await gw.stop();
    await sim.stop();
    await sink.close();
  }
  rmSync(workDir, { recursive: true, force: true });

  const mb = (b: number | undefined): string => (b === undefined || Number.isNaN(b) ? '–' : (b / MB).toFixed(0));
  const markdown = [
    `## Stream memory (${startedAt}; ${machine.cores} × ${machine.cpuModel}, Node ${process.version})`,
    '',
    `${runs} runs of ${streams} streams × ${tokens} tokens at ${tpotMs} ms/token on one gateway (everything on), each opened over 2 s; figures 5 s after each run (MB). Idle after warm-up: RSS ${mb(idle?.rssBytes)}, heap used ${mb(idle?.heapUsedBytes)}, heap total ${mb(idle?.heapTotalBytes)}.`,
    '',
    table(
      ['run', 'streams ok', 'RSS peak', 'RSS after', 'heap used after', 'heap total after', 'external after'],
      rows.map((r) => [String(r.run), `${r.completed}/${streams}`, mb(r.rssPeakBytes), mb(r.after?.rssBytes), mb(r.after?.heapUsedBytes), mb(r.after?.heapTotalBytes), mb(r.after?.externalBytes)]),
    ),
    '',
    snapshot
      ? `Heap snapshot after the last run (taken after a full collection): **${(snapshot.liveBytes / MB).toFixed(1)} MB live** in ${snapshot.nodes} objects. Largest groups: ` +
        snapshot.top.map((g) => `${g.group} ${ms(g.bytes / MB, 1)} MB (${g.count})`).join('; ') +
        '.'
      : 'No heap snapshot.',
  ].join('\n');
  const out = join(repoRoot, 'bench/results', `stream-memory-${startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, `${JSON.stringify({ startedAt, command: `npx tsx bench/stream-memory.ts ${process.argv.slice(2).join(' ')}`.trim(), machine, runs, streams, tokens, tpotMs, idle, rows, snapshot }, null, 2)}\n`);
  process.stdout.write(`\n${markdown}\n`);
  log(`wrote ${out} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

/** The snapshot is written on the gateway's main thread: done once its size stops changing. */
async function waitForSnapshot(dir: string, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < until) {
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
    if (file) {
      const size = statSync(join(dir, file)).size;
      if (size > 0 && size === last) return join(dir, file);
      last = size;
    }
    await sleep(500);
  }
  throw new Error(`no complete heap snapshot in ${dir} after ${timeoutMs} ms`);
}

main().catch((err: unknown) => {
  process.stderr.write(`stream-memory failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
