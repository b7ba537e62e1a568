/**
 * Scenario 4: what observability costs. The same non-streamed load at 500 req/s through two
 * gateways: everything on (tracing sampled at 100% to a local OTLP receiver, metrics, info logs
 * to a file) and everything off (OTEL_SDK_DISABLED=true, metrics.enabled false, logging.level
 * silent). Phases alternate direct / off / on over several rounds, and the extra cost is taken
 * within each round (on against the off phase next to it) before the median over rounds:
 * a shared 2-core machine drifts by more than the cost between rounds (CPU per request of
 * the same build moved from 1,120 to 1,845 µs in one run).
 */
import type { BenchStack } from '../lib/bench-stack.js';
import { ms, type BenchContext } from '../lib/context.js';
import { median } from '../lib/percentiles.js';
import { formatP, pairedExtraCost, signTestP, splitOfRounds, type Round, type RoundsSplit } from '../lib/paired-rounds.js';
import { mainThreadCpuUsPerRequest as mainThreadCpuUs, measurePhase, type PhaseResult } from '../lib/phase.js';
import { table, type BudgetCheck, type ScenarioOutcome } from '../lib/report.js';

const RATE = 500;

export async function observabilityScenario(ctx: BenchContext, stack: BenchStack): Promise<ScenarioOutcome> {
  const started = performance.now();
  const rounds = ctx.quick ? 1 : 5;
  const timing = ctx.quick ? { durationMs: 2_000, warmupMs: 500 } : { durationMs: 4_000, warmupMs: 750 };
  ctx.log(`scenario 4: observability off vs on at ${RATE} req/s, ${rounds} round(s) of ${timing.durationMs / 1000} s phases`);
  const sim = await stack.sim('zero');
  const on = await stack.gateway('gateway-on', 'zero', 'on');
  const off = await stack.gateway('gateway-off', 'zero', 'off');
  const speed = await stack.speedProbe();
  // JIT both before the first measured round: "off" was just started, and so is "on" when this
  // scenario runs without scenario 1 before it.
  for (const gw of [off, on]) await measurePhase({ path: 'warm-up', send: (i) => gw.client.complete(i), gatewayPid: gw.process.pid, simPid: sim.process.pid }, RATE, 1_500, 0);

  const results: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const phase = (path: 'direct' | 'off' | 'on'): Promise<PhaseResult> => {
      if (path === 'direct') return measurePhase({ path, send: (i) => sim.direct.complete(i), simPid: sim.process.pid, speed }, RATE, timing.durationMs, timing.warmupMs);
      const gw = path === 'on' ? on : off;
      return measurePhase({ path, send: (i) => gw.client.complete(i), gatewayPid: gw.process.pid, simPid: sim.process.pid, speed }, RATE, timing.durationMs, timing.warmupMs);
    };
    // Alternate the order of on and off between rounds so a drift does not favour one.
    const order: Array<'direct' | 'off' | 'on'> = r % 2 === 0 ? ['direct', 'off', 'on'] : ['direct', 'on', 'off'];
    const got: Partial<Round> = {};
    for (const path of order) got[path] = await phase(path);
    const round = got as Round;
    results.push(round);
    ctx.log(
      `  round ${r + 1}: overhead p50 off ${ms(round.off.latency.p50 - round.direct.latency.p50)} on ${ms(round.on.latency.p50 - round.direct.latency.p50)} ms; ` +
        `CPU/req off ${ms(round.off.gatewayCpuUsPerRequest, 0)} on ${ms(round.on.gatewayCpuUsPerRequest, 0)} µs`,
    );
  }

  const stat = (pick: (r: Round) => number): number => median(results.map(pick));
  const side = (pick: (r: Round) => PhaseResult) => ({
    overheadP50: stat((r) => pick(r).latency.p50 - r.direct.latency.p50),
    overheadP99: stat((r) => pick(r).latency.p99 - r.direct.latency.p99),
    overheadMean: stat((r) => pick(r).latency.mean - r.direct.latency.mean),
    cpuUsPerRequest: stat((r) => pick(r).gatewayCpuUsPerRequest ?? Number.NaN),
    errors: results.reduce((n, r) => n + pick(r).errors + pick(r).dropped, 0),
  });
  const summary = { off: side((r) => r.off), on: side((r) => r.on) };
  // Paired within each round: the median of the rounds' differences, against the off side's median.
  const paired = pairedExtraCost(results);
  const percentOf = (extra: number, base: number): number => (base > 0 ? (extra / base) * 100 : Number.NaN);
  const extraP50 = percentOf(paired.p50, summary.off.overheadP50);
  const extraMean = percentOf(paired.mean, summary.off.overheadMean);
  const extraP99 = percentOf(paired.p99, summary.off.overheadP99);
  const extraCpu = paired.cpuPercent;
  // How consistently "on" cost more, round by round: a median over five rounds can hide a split.
  const costlierRounds = {
    p50: splitOfRounds(results, (p) => p.latency.p50),
    mean: splitOfRounds(results, (p) => p.latency.mean),
    cpu: splitOfRounds(results, (p) => p.gatewayCpuUsPerRequest),
  };
  const roundsLine = (name: string, c: RoundsSplit): string => `${name} ${c.higher} of ${results.length} (p ${formatP(c.p)})`;

  // A percentage of an off side at or below the direct path's (a negative p99 overhead) means nothing.
  const signed = (n: number): string => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(0)}%` : 'n/a (off ≤ 0)');
  // All three must hold: the budget names the overhead, and its median alone hides what
  // observability adds to the slow requests (the mean carries them; the p99 is printed too, but
  // is decided by stalls that hit both sides); CPU per request is what observability spends.
  const budgets: BudgetCheck[] = [
    {
      budget: `observability cost (overhead p50, overhead mean and CPU per request, on vs off, ${RATE} req/s)`,
      limit: '≤ +30% each',
      measured:
        `p50 ${signed(extraP50)}, mean ${signed(extraMean)}, CPU/req ${signed(extraCpu)}; p99 ${signed(extraP99)} (paired per round; medians ${ms(summary.off.overheadP50)} → ${ms(summary.on.overheadP50)} ms p50, ` +
        `${ms(summary.off.overheadMean)} → ${ms(summary.on.overheadMean)} ms mean, ${ms(summary.off.cpuUsPerRequest, 0)} → ${ms(summary.on.cpuUsPerRequest, 0)} µs)`,
      pass: ctx.quick ? undefined : extraP50 <= 30 && extraMean <= 30 && extraCpu <= 30,
    },
  ];
  const row = (label: string, s: typeof summary.on): string[] => [label, ms(s.overheadP50), ms(s.overheadP99), ms(s.overheadMean), ms(s.cpuUsPerRequest, 0), String(s.errors)];
  const markdown = [
    `${RATE} req/s, ${rounds} round(s) of direct / off / on phases (${timing.durationMs / 1000} s each), medians over the rounds; the extra cost below is paired ` +
      'within each round (on minus the off phase next to it, then the median over rounds). ' +
      '"on": OTLP traces sampled at 100% to a local receiver, Prometheus metrics, info logs to a file. "off": OTEL_SDK_DISABLED=true, metrics.enabled false, logging.level silent.',
    '',
    table(['observability', 'overhead p50 (ms)', 'overhead p99 (ms)', 'overhead mean (ms)', 'gateway CPU/req (µs)', 'errors'], [row('off', summary.off), row('on', summary.on)]),
    '',
    `Extra cost of observability: overhead p50 ${signed(extraP50)}, mean ${signed(extraMean)}, p99 ${signed(extraP99)}, CPU per request ${signed(extraCpu)}` +
      ` (paired medians: ${ms(paired.p50)} ms p50, ${ms(paired.mean)} ms mean, ${ms(paired.cpuUs, 0)} µs CPU per request; of that CPU, ` +
      `${ms(paired.mainThreadCpuUs, 0)} µs on the main thread and ${ms(paired.otherThreadsCpuUs, 0)} µs on the gateway's other threads: the span export worker, V8's GC helpers, libuv's pool).`,
    '',
    `Rounds in which "on" cost more: ${roundsLine('overhead p50', costlierRounds.p50)}, ${roundsLine('mean', costlierRounds.mean)}, ${roundsLine('CPU per request', costlierRounds.cpu)}` +
      ` (two-sided sign test; ${results.length} round${results.length === 1 ? '' : 's'} can say no better than p = ${signTestP(results.length, 0).toPrecision(2)}).`,
    '',
    table(
      ['round', 'order', 'overhead p50 off / on (ms)', 'overhead mean off / on (ms)', 'CPU/req off / on (µs)', 'of which main thread off / on (µs)', 'machine speed off / on (ns/op)'],
      results.map((r, i) => [
        String(i + 1),
        i % 2 === 0 ? 'off, on' : 'on, off',
        `${ms(r.off.latency.p50 - r.direct.latency.p50)} / ${ms(r.on.latency.p50 - r.direct.latency.p50)}`,
        `${ms(r.off.latency.mean - r.direct.latency.mean)} / ${ms(r.on.latency.mean - r.direct.latency.mean)}`,
        `${ms(r.off.gatewayCpuUsPerRequest, 0)} / ${ms(r.on.gatewayCpuUsPerRequest, 0)}`,
        `${ms(mainThreadCpuUs(r.off), 0)} / ${ms(mainThreadCpuUs(r.on), 0)}`,
        `${ms(r.off.machineNsPerOp, 1)} / ${ms(r.on.machineNsPerOp, 1)}`,
      ]),
    ),
  ].join('\n');

  await stack.stopGateway('gateway-off');
  return {
    id: 'observability',
    title: '4. The cost of observability',
    markdown,
    data: { rate: RATE, rounds: results, summary, paired, extraPercent: { p50: extraP50, mean: extraMean, p99: extraP99, cpu: extraCpu }, costlierRounds },
    budgets,
    seconds: (performance.now() - started) / 1000,
  };
}
