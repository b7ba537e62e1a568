/**
 * Scenario 1: non-streamed completions at fixed open-loop arrival rates, straight to the
 * simulator (the floor) and through the gateway with everything on (tracing sampled at 100% to
 * a local OTLP receiver, metrics, info logs to a file).
 */
import { statSync } from 'node:fs';
import { nonStreamedTokens, type BenchStack } from '../lib/bench-stack.js';
import { ms, type BenchContext } from '../lib/context.js';
import { combineRounds, measurePhase, medianOverhead, type PhaseResult, type PhaseStats } from '../lib/phase.js';
import { table, type BudgetCheck, type ScenarioOutcome } from '../lib/report.js';

export interface RatePoint {
  rate: number;
  /** The model's non-streamed requests went over shared Triton streams (models[].multiplex). */
  multiplex?: boolean;
  /** Medians over the rounds (counts summed). */
  direct: PhaseStats;
  gateway: PhaseStats;
  /** Median over the rounds of each round's gateway − direct. */
  overhead: { p50: number; p99: number; mean: number };
  spansPerRequest: number;
  logBytesPerRequest: number;
  rounds: Array<{ direct: PhaseResult; gateway: PhaseResult }>;
}

export interface RateTiming {
  rounds: number;
  durationMs: number;
  warmupMs: number;
}

export function phaseTiming(ctx: BenchContext): RateTiming {
  return ctx.quick ? { rounds: 1, durationMs: 2_000, warmupMs: 500 } : { rounds: 3, durationMs: 3_000, warmupMs: 500 };
}

/**
 * Direct, then the gateway, at one rate; `rounds` times, so a burst of noise on a shared
 * machine lands in one round and the median leaves it out.
 */
export async function measureRate(ctx: BenchContext, stack: BenchStack, label: string, rate: number, timing = phaseTiming(ctx), multiplex = false): Promise<RatePoint> {
  const sim = await stack.sim('zero');
  const gw = await stack.gateway(label, 'zero', 'on', { multiplex });
  const sink = await stack.otlpSink();
  const speed = await stack.speedProbe();
  const rounds: Array<{ direct: PhaseResult; gateway: PhaseResult }> = [];
  let spans = 0;
  let logBytes = 0;
  for (let r = 0; r < timing.rounds; r++) {
    // A shared-streams gateway is held against a direct client that shares streams too.
    const send = multiplex ? (i: number) => sim.direct.completeShared(i) : (i: number) => sim.direct.complete(i);
    const direct = await measurePhase({ path: 'direct', send, simPid: sim.process.pid, speed }, rate, timing.durationMs, timing.warmupMs);
    const spans0 = (await sink.stats()).spans;
    const log0 = statSync(gw.process.logFile).size;
    const gateway = await measurePhase(
      { path: 'gateway', send: (i) => gw.client.complete(i), gatewayPid: gw.process.pid, gatewayUrl: gw.process.url, simPid: sim.process.pid, speed },
      rate,
      timing.durationMs,
      timing.warmupMs,
    );
    // Spans reach the receiver in batches; the count includes some of the warm-up's spans,
    // which is fine for "is tracing really exporting".
    spans += (await sink.stats()).spans - spans0;
    logBytes += statSync(gw.process.logFile).size - log0;
    rounds.push({ direct, gateway });
  }
  const gateway = combineRounds(rounds.map((r) => r.gateway));
  const direct = combineRounds(rounds.map((r) => r.direct));
  const point: RatePoint = {
    rate,
    direct,
    gateway,
    overhead: medianOverhead(rounds),
    spansPerRequest: gateway.completed > 0 ? spans / gateway.completed : 0,
    logBytesPerRequest: gateway.completed > 0 ? logBytes / gateway.completed : 0,
    rounds,
  };
  ctx.log(
    `  ${rate} req/s: direct p50 ${ms(direct.latency.p50)} p99 ${ms(direct.latency.p99)} | gateway p50 ${ms(gateway.latency.p50)} p99 ${ms(gateway.latency.p99)} ms | ` +
      `overhead p50 ${ms(point.overhead.p50)} p99 ${ms(point.overhead.p99)} ms | errors ${gateway.errors + gateway.dropped} | gateway ${ms(gateway.gatewayCores)} cores, ${ms(gateway.gatewayCpuUsPerRequest, 0)} µs/req`,
  );
  return point;
}

export function rateTable(points: RatePoint[]): string {
  return table(
    ['rate (req/s)', 'direct p50', 'direct p99', 'gateway p50', 'gateway p99', 'overhead p50', 'overhead p99', 'errors', 'gateway CPU (cores)', 'gateway CPU/req (µs)', 'sim CPU (cores)', 'spans/req', 'driver lag p99 (direct / gateway)'],
    points.map((p) => [
      p.multiplex ? `${p.rate} (shared streams)` : String(p.rate),
      ms(p.direct.latency.p50),
      ms(p.direct.latency.p99),
      ms(p.gateway.latency.p50),
      ms(p.gateway.latency.p99),
      ms(p.overhead.p50),
      ms(p.overhead.p99),
      `${p.gateway.errors + p.gateway.dropped}/${p.gateway.scheduled}` + (p.direct.errors + p.direct.dropped > 0 ? ` (direct ${p.direct.errors + p.direct.dropped})` : ''),
      ms(p.gateway.gatewayCores),
      ms(p.gateway.gatewayCpuUsPerRequest, 0),
      ms(p.gateway.simCores),
      ms(p.spansPerRequest, 1),
      `${ms(p.direct.sendLagP99)} / ${ms(p.gateway.sendLagP99)}`,
    ]),
  );
}

/**
 * The gateway's stalls next to its p99: waits for a core and GC pauses (bench/lib/gateway-time.ts).
 * Either one stalls every request in flight at once, which is how a p99 far above the CPU
 * cost per request comes about. Last, how fast the host let the machine run meanwhile
 * (speed-probe.ts): the same code costs more CPU when that number is high.
 */
export function stallTable(points: RatePoint[]): string {
  return table(
    ['rate (req/s)', 'gateway p99', 'overhead p99', 'main thread CPU/req (µs)', 'main thread waiting for a core (ms/s)', 'mean wait when scheduled (µs)', 'GC pauses (ms/s)', 'GC pauses', 'GC pauses > 10 ms', 'machine speed (ns/op)'],
    points.map((p) => {
      const t = p.gateway.gatewayTime ?? {};
      return [
        p.multiplex ? `${p.rate} (shared streams)` : String(p.rate),
        ms(p.gateway.latency.p99),
        ms(p.overhead.p99),
        // The event loop's own thread: the process's CPU also counts the span export worker and GC helpers.
        ms(t.mainThreadCpuMsPerS === undefined ? undefined : (t.mainThreadCpuMsPerS * 1000) / p.rate, 0),
        ms(t.runQueueMsPerS, 1),
        ms(t.runQueueUsPerSlice, 0),
        ms(t.gcMsPerS, 1),
        ms(t.gcPauses, 0),
        ms(t.gcPausesOver10ms, 0),
        ms(p.gateway.machineNsPerOp, 1),
      ];
    }),
  );
}

export async function nonStreamedScenario(ctx: BenchContext, stack: BenchStack): Promise<ScenarioOutcome & { points: RatePoint[] }> {
  const started = performance.now();
  const rates = ctx.rates ?? (ctx.quick ? [200, 500] : [200, 500, 1000, 2000]);
  const timing = phaseTiming(ctx);
  ctx.log(`scenario 1: non-streamed at ${rates.join(', ')} req/s, ${timing.rounds} round(s) of ${timing.durationMs / 1000} s phases`);
  const points: RatePoint[] = [];
  for (const rate of rates) points.push(await measureRate(ctx, stack, 'gateway-on', rate, timing));
  // The same at 500 req/s with the model's non-streamed requests on shared streams (README:
  // "Shared streams"), the option DESIGN §9 asks to measure before choosing.
  let shared: RatePoint | undefined;
  if (rates.includes(500)) {
    shared = { ...(await measureRate(ctx, stack, 'gateway-shared', 500, timing, true)), multiplex: true };
    await stack.stopGateway('gateway-shared');
  }

  const at500 = points.find((p) => p.rate === 500);
  const budgets: BudgetCheck[] = [
    {
      budget: 'non-streamed overhead p50 at 500 req/s',
      limit: '≤ 1 ms',
      measured: at500 ? `${ms(at500.overhead.p50)} ms` : '–',
      pass: at500 ? at500.overhead.p50 <= 1 && at500.gateway.errors === 0 : undefined,
    },
    {
      budget: 'non-streamed overhead p99 at 500 req/s',
      limit: '≤ 3 ms',
      measured: at500 ? `${ms(at500.overhead.p99)} ms` : '–',
      pass: at500 ? at500.overhead.p99 <= 3 && at500.gateway.errors === 0 : undefined,
    },
  ];
  if (shared) {
    budgets.push(
      { budget: 'the same p50 with shared streams (multiplex: true)', limit: '≤ 1 ms', measured: `${ms(shared.overhead.p50)} ms`, pass: shared.overhead.p50 <= 1 && shared.gateway.errors === 0 },
      { budget: 'the same p99 with shared streams (multiplex: true)', limit: '≤ 3 ms', measured: `${ms(shared.overhead.p99)} ms`, pass: shared.overhead.p99 <= 3 && shared.gateway.errors === 0 },
    );
  }
  const markdown = [
    `Open-loop arrivals; ${timing.rounds} round(s) per rate of a direct phase then a gateway phase, ${timing.durationMs / 1000} s each after ${timing.warmupMs / 1000} s of warm-up; ` +
      `${nonStreamedTokens} tokens per completion. Latency in ms from each request's scheduled send time, medians over the rounds; overhead = the median of each round's gateway − direct ` +
      'at the same percentile. CPU of the gateway and simulator processes from /proc; spans/req counts what reached the local OTLP receiver.',
    '',
    rateTable(shared ? [...points, shared] : points),
    '',
    'Where the gateway stalled (medians over the rounds, per gateway phase): its main thread ready to run but waiting for a core (/proc schedstat), and V8 garbage-collection pauses (its own `nodejs_gc_duration_seconds`).',
    '',
    stallTable(shared ? [...points, shared] : points),
    ...(shared
      ? ['', `"500 (shared streams)": the same model with \`multiplex: true\`, its non-streamed requests sent over the client's long-lived Triton streams instead of a stream each (README, Shared streams); its direct floor shares 4 streams the same way.`]
      : []),
  ].join('\n');
  return { id: 'non-streamed', title: '1. Non-streamed completions: gateway vs direct gRPC', markdown, data: shared ? [...points, shared] : points, budgets, points, seconds: (performance.now() - started) / 1000 };
}
