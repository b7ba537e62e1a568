/**
 * Scenario 3: many concurrent streams against a simulator that takes `tpotMs` per token (the
 * first token included).
 *
 * The background streams open at a constant rate over a ramp shorter than one stream's life,
 * so for a while all of them are open together (the plateau). During the plateau, short probe
 * streams arrive at a low constant rate: their time to first token, from each probe's
 * scheduled start, is "TTFT with N open streams". The background streams give the gaps
 * between tokens and the relayed tokens per second over the plateau; the gateway's RSS is read
 * before the run and throughout the plateau. The same run goes straight to the simulator for
 * the floor. The background streams' own TTFT (taken while the streams are being opened) is
 * reported too: it is the cost of a burst of opens, not of open streams.
 */
import { cpus } from 'node:os';
import type { BenchStack } from '../lib/bench-stack.js';
import { ms, type BenchContext } from '../lib/context.js';
import { startGatewayTimeWindow, type GatewayTime } from '../lib/gateway-time.js';
import { runOpenLoop } from '../lib/open-loop.js';
import { summarize, type LatencySummary } from '../lib/percentiles.js';
import { gatewayRuntimeStats, type GatewayRuntimeStats } from '../lib/processes.js';
import { rssBytes, startCpuWindow } from '../lib/proc-stats.js';
import { table, type BudgetCheck, type ScenarioOutcome } from '../lib/report.js';
import type { SpeedProbe } from '../lib/speed-probe.js';
import { StreamTimings } from '../lib/stream-timings.js';

type Send = (i: number, at: number, timings: StreamTimings, maxTokens?: number) => Promise<void>;

export interface StreamRun {
  path: string;
  streams: number;
  completed: number;
  errors: number;
  errorSamples: string[];
  peakOpen: number;
  /** The fewest background streams open during the measurement window (below `streams`: it never had them all). */
  minOpen: number;
  /** TTFT of the background streams while they were being opened. */
  rampTtft: LatencySummary;
  /** TTFT of the probes, sent while every background stream was open. */
  probeTtft: LatencySummary;
  probes: number;
  probeErrors: number;
  interToken: LatencySummary;
  relayedTokensPerSecond: number;
  plateauMs: number;
  /** CPU of the process that serves the streams (the simulator for direct, else the gateway), over the plateau. */
  plateauCores: number;
  /** The simulator's and this load generator's CPU over the same window: all three share the machine's cores. */
  simCores: number;
  driverCores: number;
  /** The gateway's run-queue wait and GC pauses over the plateau (gateway path only). */
  gatewayTime?: GatewayTime;
  /** The machine's speed over the plateau (speed-probe.ts; ns per op, lower is faster), with a probe. */
  machineNsPerOp?: number;
}

export interface StreamingShape {
  streams: number;
  tokens: number;
  tpotMs: number;
  rampMs: number;
  probeRate: number;
  probeTokens: number;
}

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU of the serving process per relayed token over the plateau (all of its CPU, probes included), in µs. */
export function cpuUsPerRelayedToken(run: StreamRun): number {
  return run.relayedTokensPerSecond > 0 ? (run.plateauCores / run.relayedTokensPerSecond) * 1e6 : Number.NaN;
}

export interface StreamRunHooks {
  /** Every 100 ms over the plateau (e.g. an RSS sample). */
  onPlateau?: () => void;
  /** Once, late in the plateau, before the run winds down. */
  atPlateauEnd?: () => Promise<void>;
  /** The gateway's URL, for its GC pauses over the plateau (gateway path only). */
  gatewayUrl?: string;
  /** The machine-speed probe, if the run has one. */
  speed?: SpeedProbe;
}

/** One streaming run through `send` (also used by bench/relay-floor.ts). */
export async function runStreams(path: string, shape: StreamingShape, send: Send, cpuPid: number, simPid: number, hooks: StreamRunHooks = {}): Promise<StreamRun> {
  const { onPlateau = () => undefined, atPlateauEnd = async () => undefined, gatewayUrl, speed } = hooks;
  const background = new StreamTimings();
  const probes = new StreamTimings();
  const backgroundRun = runOpenLoop({
    rate: (shape.streams * 1000) / shape.rampMs,
    durationMs: shape.rampMs,
    send: (i, at) => send(i, at, background),
    maxOutstanding: shape.streams + 1,
    drainTimeoutMs: 60_000,
  });
  // The plateau starts when every background stream has its first token, unless one has already
  // ended (a saturated server: then the run never had them all open, and says so in minOpen).
  const lifeMs = shape.tokens * shape.tpotMs;
  const giveUpAt = performance.now() + shape.rampMs + lifeMs;
  while (background.ttftMs.length < shape.streams && background.closed === 0 && performance.now() < giveUpAt) await sleep(20);
  await sleep(200);
  // Probes fill what is left of the plateau: they stop before the first background stream would
  // close at full speed (its first token plus the rest of its tokens), so the window's CPU,
  // tokens, RSS and probe TTFT all see every stream open.
  const firstCloseDue = (background.arrivals[0] ?? performance.now()) + (shape.tokens - 1) * shape.tpotMs;
  const probeMs = Math.max(500, Math.min(3_000, firstCloseDue - performance.now() - 300));
  // Opened before and closed after the CPU windows, so its /metrics scrapes stay out of them.
  const stalls = gatewayUrl === undefined ? undefined : await startGatewayTimeWindow(cpuPid, gatewayUrl);
  const cpu = startCpuWindow(cpuPid);
  const simCpu = startCpuWindow(simPid);
  const driverCpu = startCpuWindow(process.pid);
  const speedWindow = speed?.window();
  const windowStart = performance.now();
  background.markWindow();
  const ticker = setInterval(onPlateau, 100);
  onPlateau();
  const probeRun = await runOpenLoop({ rate: shape.probeRate, durationMs: probeMs, send: (i, at) => send(i, at, probes, shape.probeTokens), drainTimeoutMs: 10_000 });
  clearInterval(ticker);
  const plateauCores = cpu.stop().cores;
  const simCores = simCpu.stop().cores;
  const driverCores = driverCpu.stop().cores;
  const machine = speedWindow?.stop();
  // Tokens over the same window as the CPU, so CPU per token divides like by like.
  const windowEnd = performance.now();
  const minOpen = background.minOpenSinceMark();
  const gatewayTime = await stalls?.stop();
  await atPlateauEnd();
  const run = await backgroundRun;
  return {
    path,
    streams: run.scheduled,
    completed: run.completed,
    errors: run.errors + run.dropped,
    errorSamples: [...run.errorSamples, ...probeRun.errorSamples],
    peakOpen: background.peakOpen,
    minOpen,
    rampTtft: summarize(background.ttftMs),
    probeTtft: summarize(probes.ttftMs),
    probes: probeRun.scheduled,
    probeErrors: probeRun.errors + probeRun.dropped,
    interToken: summarize(background.gapsMs),
    relayedTokensPerSecond: background.tokensPerSecondBetween(windowStart, windowEnd),
    plateauMs: windowEnd - windowStart,
    plateauCores,
    simCores,
    driverCores,
    ...(gatewayTime ? { gatewayTime } : {}),
    ...(machine ? { machineNsPerOp: machine.nsPerOp } : {}),
  };
}

export async function streamingScenario(ctx: BenchContext, stack: BenchStack): Promise<ScenarioOutcome> {
  const started = performance.now();
  const shape: StreamingShape = ctx.quick
    ? { streams: 200, tokens: 64, tpotMs: 50, rampMs: 500, probeRate: 20, probeTokens: 4 }
    : { streams: 1000, tokens: 128, tpotMs: 50, rampMs: 2_000, probeRate: 50, probeTokens: 4 };
  const { streams, tokens, tpotMs, rampMs } = shape;
  ctx.log(`scenario 3: ${streams} concurrent streams × ${tokens} tokens at ${tpotMs} ms/token (opened over ${rampMs / 1000} s), probes at ${shape.probeRate}/s on the plateau`);
  const sim = await stack.sim('stream', { tpotMs, streamTokens: tokens });
  const gw = await stack.gateway('gateway-stream', 'stream', 'on', { streamTokens: tokens });

  // Warm both paths (JIT, connections), then let the gateway settle before its baseline RSS.
  // Half the streams at the same opening rate, 16 tokens each: the per-stream and the per-token
  // code run thousands of times, as the non-streamed paths' warm-up does (lib/warm-up.ts).
  const warm = ctx.quick
    ? { ...shape, streams: 50, tokens: 8, rampMs: 250, probeRate: 10 }
    : { ...shape, streams: streams / 2, tokens: 16, rampMs: rampMs / 2, probeRate: 10 };
  await runStreams('warm-up', warm, (i, at, t, n) => sim.direct.stream(i, at, t, n ?? warm.tokens), sim.process.pid, sim.process.pid);
  await runStreams('warm-up', warm, (i, at, t, n) => gw.client.stream(i, at, t, n ?? warm.tokens), gw.process.pid, sim.process.pid);
  await sleep(1_000);

  const speed = await stack.speedProbe();
  const direct = await runStreams('direct', shape, (i, at, t, n) => sim.direct.stream(i, at, t, n), sim.process.pid, sim.process.pid, { speed });
  ctx.log(`  direct: ${direct.completed}/${direct.streams} streams, probe TTFT p50 ${ms(direct.probeTtft.p50)} p99 ${ms(direct.probeTtft.p99)} ms, ${direct.relayedTokensPerSecond.toFixed(0)} tokens/s`);

  stack.profileFromNow(gw);
  const rssBefore = rssBytes(gw.process.pid);
  const statsBefore = await gatewayRuntimeStats(gw.process.url);
  let rssPeak = rssBefore;
  let statsAtPlateau: GatewayRuntimeStats | undefined;
  const viaGateway = await runStreams(
    'gateway',
    shape,
    (i, at, t, n) => gw.client.stream(i, at, t, n),
    gw.process.pid,
    sim.process.pid,
    {
      onPlateau: () => {
        rssPeak = Math.max(rssPeak, rssBytes(gw.process.pid));
      },
      // Late in the plateau, so the gateway's 5-second runtime sample covers open streams.
      atPlateauEnd: async () => {
        statsAtPlateau = await gatewayRuntimeStats(gw.process.url);
      },
      gatewayUrl: gw.process.url,
      speed,
    },
  );
  ctx.log(
    `  gateway: ${viaGateway.completed}/${viaGateway.streams} streams, probe TTFT p50 ${ms(viaGateway.probeTtft.p50)} p99 ${ms(viaGateway.probeTtft.p99)} ms, ` +
      `${viaGateway.relayedTokensPerSecond.toFixed(0)} tokens/s, ${ms(viaGateway.plateauCores)} cores, RSS ${(rssBefore / MiB).toFixed(0)} → ${(rssPeak / MiB).toFixed(0)} MiB`,
  );

  const ttftOverhead = { p50: viaGateway.probeTtft.p50 - direct.probeTtft.p50, p99: viaGateway.probeTtft.p99 - direct.probeTtft.p99 };
  const rampTtftOverhead = { p50: viaGateway.rampTtft.p50 - direct.rampTtft.p50, p99: viaGateway.rampTtft.p99 - direct.rampTtft.p99 };
  const gapOverhead = { p50: viaGateway.interToken.p50 - direct.interToken.p50, p99: viaGateway.interToken.p99 - direct.interToken.p99 };
  const perStreamKiB = viaGateway.peakOpen > 0 ? (rssPeak - rssBefore) / 1024 / viaGateway.peakOpen : Number.NaN;
  const expectedRate = (streams * 1000) / tpotMs;
  const full = !ctx.quick;
  // What relaying the offered rate asks of the machine: the gateway's CPU per relayed token
  // (all its CPU over the plateau, probes included) times the offered rate, next to what the
  // simulator and the load generator needed on the direct run.
  const usPerToken = cpuUsPerRelayedToken(viaGateway);
  const gatewayCoresNeeded = (usPerToken * expectedRate) / 1e6;
  const loadCores = direct.simCores + direct.driverCores;
  const capacity = { usPerToken, gatewayCoresNeeded, loadCores, machineCores: cpus().length };
  const mib = (b: number | undefined): string => (b === undefined || Number.isNaN(b) ? '–' : `${(b / MiB).toFixed(1)} MiB`);

  // Both budgets are "with N open streams": a window that lost some (the saturated gateway fell
  // behind until streams began to end) can show a failure, but never a pass.
  const allOpen = viaGateway.minOpen >= streams;
  const judged = (ok: boolean): boolean | undefined => (!full ? undefined : ok && !allOpen ? undefined : ok);
  const openNote = allOpen ? '' : ` (only ${viaGateway.minOpen} of ${streams} streams open through the window)`;
  const budgets: BudgetCheck[] = [
    {
      budget: `TTFT overhead p99 with ${streams} open streams`,
      limit: '≤ 2 ms',
      measured: `${ms(ttftOverhead.p99)} ms${openNote}`,
      pass: judged(ttftOverhead.p99 <= 2 && viaGateway.errors + viaGateway.probeErrors === 0),
    },
    {
      budget: `gateway RSS with ${streams} open streams`,
      limit: '≤ 200 MB',
      measured: `${(rssPeak / 1e6).toFixed(0)} MB${openNote}`,
      pass: judged(rssPeak <= 200e6),
    },
  ];
  const markdown = [
    `${streams} background streams opened at a constant rate over ${rampMs / 1000} s, ${tokens} tokens each, the simulator at ${tpotMs} ms for the first token and for each one after it ` +
      `(relay rate with all open: ${expectedRate.toFixed(0)} tokens/s). While all are open, ${shape.probeRate} probe streams/s (${shape.probeTokens} tokens) measure time to first token ` +
      `from their scheduled start. Inter-token = gap between consecutive tokens of one stream at the client. CPU, relayed tokens/s, RSS and probe TTFT over one window ` +
      `(the plateau: from every stream's first token until just before the first would end); "open" is peak / fewest during that window.`,
    '',
    table(
      ['path', 'streams ok', 'open (peak / fewest in window)', 'probe TTFT p50', 'probe TTFT p99', 'TTFT while opening p50', 'p99', 'inter-token p50', 'inter-token p99', 'relayed tokens/s', 'CPU (cores)', 'simulator + load generator CPU (cores)', 'machine speed (ns/op)'],
      [direct, viaGateway].map((r) => [
        r.path,
        `${r.completed}/${r.streams}` + (r.probeErrors > 0 ? ` (probe errors ${r.probeErrors})` : ''),
        `${r.peakOpen} / ${r.minOpen}`,
        ms(r.probeTtft.p50),
        ms(r.probeTtft.p99),
        ms(r.rampTtft.p50),
        ms(r.rampTtft.p99),
        ms(r.interToken.p50),
        ms(r.interToken.p99),
        r.relayedTokensPerSecond.toFixed(0),
        `${ms(r.plateauCores)} (${r.path === 'direct' ? 'simulator' : 'gateway'})`,
        `${ms(r.simCores)} + ${ms(r.driverCores)}`,
        ms(r.machineNsPerOp, 1),
      ]),
    ),
    '',
    table(
      ['overhead (gateway − direct)', 'p50 (ms)', 'p99 (ms)'],
      [
        [`time to first token, ${streams} streams open`, ms(ttftOverhead.p50), ms(ttftOverhead.p99)],
        [`time to first token while opening ${(streams * 1000) / rampMs}/s`, ms(rampTtftOverhead.p50), ms(rampTtftOverhead.p99)],
        ['inter-token gap', ms(gapOverhead.p50), ms(gapOverhead.p99)],
      ],
    ),
    '',
    table(
      ['gateway RSS before', 'peak', 'growth', 'per open stream', 'heap used before → plateau', 'heap total at plateau', 'external at plateau'],
      [
        [
          mib(rssBefore),
          mib(rssPeak),
          mib(rssPeak - rssBefore),
          `${perStreamKiB.toFixed(1)} KiB`,
          `${mib(statsBefore?.heapUsedBytes)} → ${mib(statsAtPlateau?.heapUsedBytes)}`,
          mib(statsAtPlateau?.heapTotalBytes),
          mib(statsAtPlateau?.externalBytes),
        ],
      ],
    ),
    '',
    `What relaying ${expectedRate.toFixed(0)} tokens/s asks of this ${capacity.machineCores}-core machine, and where the gateway stalled over the plateau (bench/HISTORY.md, waiting for a core and TTFT with 1,000 open streams):`,
    '',
    table(
      ['gateway CPU per relayed token (µs)', `gateway cores for ${expectedRate.toFixed(0)} tokens/s`, 'simulator + load generator (direct run, cores)', 'total asked (cores)', "gateway's main thread on a core (ms/s)", "gateway's main thread waiting for a core (ms/s)", 'GC pauses (ms/s)'],
      [
        [
          ms(usPerToken, 0),
          ms(gatewayCoresNeeded),
          ms(loadCores),
          `${ms(gatewayCoresNeeded + loadCores)} of ${capacity.machineCores}`,
          ms(viaGateway.gatewayTime?.mainThreadCpuMsPerS, 0),
          ms(viaGateway.gatewayTime?.runQueueMsPerS, 1),
          ms(viaGateway.gatewayTime?.gcMsPerS, 1),
        ],
      ],
    ),
    ...(viaGateway.errorSamples.length > 0 ? ['', `Gateway errors: ${viaGateway.errorSamples.join('; ')}`] : []),
  ].join('\n');

  await stack.stopGateway('gateway-stream');
  await stack.stopSim('stream');
  return {
    id: 'streaming',
    title: `3. Streaming: ${streams} concurrent streams`,
    markdown,
    data: { shape, direct, gateway: viaGateway, capacity, ttftOverhead, rampTtftOverhead, gapOverhead, rssBefore, rssPeak, perStreamKiB, expectedRate, statsBefore, statsAtPlateau },
    budgets,
    seconds: (performance.now() - started) / 1000,
  };
}
