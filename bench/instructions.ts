/**
 * Instructions per non-streamed request, counted by valgrind's callgrind (bench/lib/callgrind.ts):
 * what a change to the hot path costs in a number this noisy VM cannot move, where CPU time per
 * request moves ±20% between rounds of one build. Kernel time (socket writes, wake-ups) is not in
 * it, and neither is waiting; it complements `compare.ts`, it does not replace it.
 *
 *   npm run build && npx tsx bench/instructions.ts                        # dist/, observability on
 *   npx tsx bench/instructions.ts --a OLD_DIST --b dist [--requests 1000] [--warm 10000] [--rounds 2]
 *   npx tsx bench/instructions.ts --a dist --b dist --b-observability off  # what observability costs
 *
 * Per build and round: a fresh gateway under callgrind with counting off, 10,000 requests to let
 * V8 optimise the request path (as every benchmark here does), 6 s for the warm-up's spans to be
 * exported, then `--requests` requests, 4 at a time, and 6 s more for their spans' export,
 * counted, divided by the requests: for the main thread (the event loop: what every request
 * waits for) split by area (JIT-compiled JavaScript, V8 builtins and runtime, the garbage
 * collector, the JIT compiler, libc, Node/libuv), and for the other threads together (V8's
 * helpers, the span export worker), which follow batches and their own JIT and so vary more.
 * Object literals V8 built in its runtime (process.nextTick's tick objects, in the processes whose
 * feedback for them went megamorphic: lib/callgrind.ts) are shown per round and left out of the
 * medians and of B − A, being a process's luck rather than its build.
 * The timers' work over those ~30 s is in the count, alike for every build; subtracting it,
 * measured in an idle window, added more noise than it took out (bench/README.md). The
 * simulator runs natively. Needs Debian's valgrind package.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { progressLogger, ms } from './lib/context.js';
import { completionClient } from './lib/gateway-client.js';
import { startOtlpSink } from './lib/otlp-sink.js';
import { median } from './lib/percentiles.js';
import { benchModel, repoRoot, startGateway, startSim } from './lib/processes.js';
import { table } from './lib/report.js';
import { parseCommandLine, refuseOption } from './lib/command-line.js';
import { callgrindControl, callgrindMissing, callgrindNode, instructionAreas, readDump, type DumpCount } from './lib/callgrind.js';

const usage =
  'usage: tsx bench/instructions.ts [--a DIST] [--b DIST] [--requests N] [--warm N] [--rounds N] [--a-observability on|off] [--b-observability on|off]';
const { values } = parseCommandLine({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    requests: { type: 'string', default: '1000' },
    warm: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '2' },
    'a-observability': { type: 'string', default: 'on' },
    'b-observability': { type: 'string', default: 'on' },
  },
}, usage);
const counts = { requests: Number(values.requests), warm: Number(values.warm), rounds: Number(values.rounds) };
for (const [name, n] of Object.entries(counts)) {
  if (!(n > 0) || !Number.isInteger(n)) refuseOption(`--${name} expects a positive whole number`, usage);
}
for (const side of ['a', 'b'] as const) {
  const v = values[`${side}-observability`];
  if (v !== 'on' && v !== 'off') refuseOption(`--${side}-observability expects on or off, not '${v}'`, usage);
}
const missing = callgrindMissing();
if (missing) refuseOption(missing, usage);

/** Longer than the span processor's export delay (OTEL_BSP_SCHEDULE_DELAY, 5 s by default). */
const SETTLE_MS = 6_000;
const CONCURRENCY = 4;

interface Build {
  label: 'A' | 'B';
  dist: string;
  observability: 'on' | 'off';
}

interface Round {
  build: 'A' | 'B';
  round: number;
  requests: number;
  errors: number;
  measuredSeconds: number;
  measured: DumpCount;
  /** Per request, the timers' work over the count included: the main thread, by area, and every other thread. */
  mainPerRequest: number;
  mainPerRequestByArea: Record<string, number>;
  othersPerRequest: number;
  /** Of the main thread's: object literals V8 built in its runtime, and how many of its calls that took (lib/callgrind.ts). */
  literalRuntimePerRequest: number;
  literalRuntimeCallsPerRequest: number;
  /** The main thread's without them: what the comparison of builds uses. */
  mainSteadyPerRequest: number;
}

const builds: Build[] = [
  { label: 'A', dist: resolve(values.a ?? join(repoRoot, 'dist')), observability: values['a-observability'] as 'on' | 'off' },
  ...(values.b ? [{ label: 'B' as const, dist: resolve(values.b), observability: values['b-observability'] as 'on' | 'off' }] : []),
];

async function main(): Promise<void> {
  const log = progressLogger();
  const stamp = new Date().toISOString().replaceAll(':', '-');
  const workDir = join(repoRoot, '.tmp', `instructions-${stamp}`);
  mkdirSync(workDir, { recursive: true });
  const wrapper = callgrindNode(workDir);
  const sink = await startOtlpSink();
  const sim = await startSim({ runtime: 'dist', workDir });
  const rounds: Round[] = [];
  log(`${builds.map((b) => `${b.label} = ${b.dist} (observability ${b.observability})`).join(', ')}; ${counts.rounds} round(s) of ${counts.requests} requests after ${counts.warm} to warm up`);
  try {
    for (let r = 0; r < counts.rounds; r++) {
      for (const build of r % 2 === 0 ? builds : [...builds].reverse()) rounds.push(await measure(build, r + 1, wrapper, workDir, sim, sink.endpoint, log));
    }
  } finally {
    await sim.stop();
    await sink.close();
  }
  const areas = instructionAreas.map(([name]) => name);
  const thousands = (n: number): string => ms(n / 1000, 1);
  const of = (label: string) => rounds.filter((x) => x.build === label);
  const rows = builds.map((b) => {
    const mine = of(b.label);
    return [
      `${b.label} (observability ${b.observability})`,
      mine.map((x) => thousands(x.mainPerRequest)).join(' / '),
      mine.map((x) => `${thousands(x.literalRuntimePerRequest)} (${ms(x.literalRuntimeCallsPerRequest, 1)} calls)`).join(' / '),
      thousands(median(mine.map((x) => x.mainSteadyPerRequest))),
      ...areas.map((a) => thousands(median(mine.map((x) => x.mainPerRequestByArea[a]!)))),
      mine.map((x) => thousands(x.othersPerRequest)).join(' / '),
      String(mine.reduce((n, x) => n + x.errors, 0)),
    ];
  });
  let text =
    `\nThousands of instructions per request (callgrind; the timers' work over the count included). The main thread per round; of it, per round, object literals` +
    ` V8 built in its runtime (process.nextTick's tick objects in a process where their feedback went megamorphic: ~120 thousand when it did, a process's luck, not its build);` +
    ` the median without them; the median of each area (with them); then the other threads per round (V8's GC and compiler helpers, the span export worker: these follow timers and batches, so they vary)\n\n` +
    `${table(['build', 'main thread per round', 'of which literals in V8 runtime', 'main thread median without them', ...areas, 'other threads per round', 'errors'], rows)}\n`;
  if (builds.length === 2) {
    const a = median(of('A').map((x) => x.mainSteadyPerRequest));
    const b = median(of('B').map((x) => x.mainSteadyPerRequest));
    text += `\nMain thread without the literals V8 built in its runtime, B − A: ${thousands(b - a)} thousand instructions per request (${ms((100 * (b - a)) / a, 1)}%)\n`;
  }
  process.stdout.write(text);
  const file = join(repoRoot, 'bench', 'results', `instructions-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify({ command: process.argv.slice(2), counts, builds, rounds }, null, 2)}\n`);
  log(`wrote ${file}`);
}

async function measure(
  build: Build,
  round: number,
  wrapper: string,
  workDir: string,
  sim: Awaited<ReturnType<typeof startSim>>,
  otlpEndpoint: string,
  log: (line: string) => void,
): Promise<Round> {
  const label = `${build.label}${round}`;
  const gateway = await startGateway({
    runtime: 'dist',
    distDir: build.dist,
    workDir,
    label,
    sim,
    observability: build.observability,
    otlpEndpoint,
    node: wrapper,
    // Under valgrind an event-loop turn can outlast under-pressure's sample interval, which it reads
    // as an infinite delay: the shedding would refuse the warm-up. Nothing here is about shedding.
    config: { loadShedding: { maxEventLoopDelayMs: 3_600_000 } },
  });
  const client = completionClient(gateway.url, benchModel, { maxTokens: 16, streamTokens: 16, maxSockets: CONCURRENCY });
  let errors = 0;
  // A closed loop, not lib/warm-up.ts's open loop at 1,000 req/s: under valgrind the gateway
  // answers ~60 a second, and an open loop would only pile requests up.
  const send = async (n: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) await client.complete(next++).catch(() => void errors++);
      }),
    );
  };
  try {
    log(`${label}: gateway under callgrind ready in ${ms(gateway.readyAfterMs / 1000, 1)} s; warming up with ${counts.warm} requests`);
    const warmStarted = performance.now();
    await send(counts.warm);
    log(`${label}: warm in ${ms((performance.now() - warmStarted) / 1000, 1)} s (${errors} errors); counting`);
    errors = 0;
    // The warm-up's last spans are exported on the span processor's timer: not in the count.
    await sleep(SETTLE_MS);
    callgrindControl(gateway.pid, '-i', 'on');
    const started = performance.now();
    await send(counts.requests);
    // Counting on until the requests' spans have been exported too: that is their cost.
    await sleep(SETTLE_MS);
    const measuredSeconds = (performance.now() - started) / 1000;
    callgrindControl(gateway.pid, '--dump=measured');
    callgrindControl(gateway.pid, '-i', 'off');
    const measured = readDump(workDir, gateway.pid, 'measured');
    const answered = counts.requests - errors;
    const mainPerRequest = measured.main.total / answered;
    const othersPerRequest = measured.others.total / answered;
    const mainPerRequestByArea = Object.fromEntries(Object.entries(measured.main.byArea).map(([a, n]) => [a, n / answered]));
    const literalRuntimePerRequest = measured.literalRuntime.instructions / answered;
    const literalRuntimeCallsPerRequest = measured.literalRuntime.calls / answered;
    log(
      `${label}: ${ms(mainPerRequest / 1000, 1)} thousand instructions per request on the main thread (${ms(literalRuntimePerRequest / 1000, 1)} of them literals in V8's runtime), ${ms(othersPerRequest / 1000, 1)} on the others ` +
        `(${answered} answered; counted for ${ms(measuredSeconds, 1)} s)`,
    );
    return {
      build: build.label,
      round,
      requests: answered,
      errors,
      measuredSeconds,
      measured,
      mainPerRequest,
      mainPerRequestByArea,
      othersPerRequest,
      literalRuntimePerRequest,
      literalRuntimeCallsPerRequest,
      mainSteadyPerRequest: mainPerRequest - literalRuntimePerRequest,
    };
  } finally {
    client.close();
    await gateway.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`instructions failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
