/**
 * Scenario 2: the highest arrival rate the gateway holds with p99 overhead ≤ 5 ms (and no
 * errors, nothing dropped, ≥ 95% of the offered rate answered). Doubling from the last rate
 * that held, then bisecting. A rate the direct path itself cannot hold ends the search: the
 * machine, not the gateway, is then the limit.
 */
import type { BenchStack } from '../lib/bench-stack.js';
import { ms, type BenchContext } from '../lib/context.js';
import { held } from '../lib/phase.js';
import { table, type ScenarioOutcome } from '../lib/report.js';
import { measureRate, type RatePoint } from './non-streamed.js';

const P99_OVERHEAD_LIMIT_MS = 5;

type Verdict = 'holds' | 'p99 overhead > 5 ms' | 'gateway errors or shortfall' | 'floor saturated';

function verdict(p: RatePoint): Verdict {
  if (!held(p.direct)) return 'floor saturated';
  if (!held(p.gateway)) return 'gateway errors or shortfall';
  if (p.overhead.p99 > P99_OVERHEAD_LIMIT_MS) return 'p99 overhead > 5 ms';
  return 'holds';
}

export async function maxRateScenario(ctx: BenchContext, stack: BenchStack, known: RatePoint[] = []): Promise<ScenarioOutcome> {
  const started = performance.now();
  // An odd number of rounds: the verdict is the middle round's, never the better of two.
  const timing = ctx.quick ? { rounds: 1, durationMs: 1_500, warmupMs: 500 } : { rounds: 3, durationMs: 3_000, warmupMs: 500 };
  const maxProbes = ctx.quick ? 2 : 4;
  ctx.log(`scenario 2: highest rate with p99 overhead ≤ ${P99_OVERHEAD_LIMIT_MS} ms (${timing.rounds} round(s) of ${timing.durationMs / 1000} s phases per probe, at most ${maxProbes} probes)`);
  const probes: Array<RatePoint & { verdict: Verdict; source: string }> = known.map((p) => ({ ...p, verdict: verdict(p), source: 'scenario 1' }));
  const bestHeld = (): number => Math.max(0, ...probes.filter((p) => p.verdict === 'holds').map((p) => p.rate));
  // The lowest failure above the best rate held: a noisy failure below it does not pull the search down.
  const lowestFailed = (): number => Math.min(Number.POSITIVE_INFINITY, ...probes.filter((p) => p.verdict !== 'holds' && p.rate > bestHeld()).map((p) => p.rate));
  let floorSaturatedAt: number | undefined = probes.find((p) => p.verdict === 'floor saturated')?.rate;

  for (let n = 0; n < maxProbes; n++) {
    const lo = bestHeld();
    const hi = lowestFailed();
    let rate: number;
    if (!Number.isFinite(hi)) rate = lo === 0 ? 500 : lo * 2;
    else {
      rate = Math.round((lo + hi) / 2 / 50) * 50;
      // Close enough: within 10% or one 50 req/s step.
      if (rate <= lo || rate >= hi || (hi - lo) / Math.max(lo, 1) < 0.1) break;
    }
    const point = await measureRate(ctx, stack, 'gateway-on', rate, timing);
    const v = verdict(point);
    probes.push({ ...point, verdict: v, source: 'search' });
    ctx.log(`  ${rate} req/s: ${v}`);
    if (v === 'floor saturated') floorSaturatedAt = Math.min(floorSaturatedAt ?? rate, rate);
  }

  const best = bestHeld();
  const sorted = [...probes].sort((a, b) => a.rate - b.rate);
  const markdown = [
    `Highest rate held with p99 overhead ≤ ${P99_OVERHEAD_LIMIT_MS} ms: **${best > 0 ? `${best} req/s` : 'none of the probed rates'}**` +
      (floorSaturatedAt !== undefined ? ` (the direct path alone could not hold ${floorSaturatedAt} req/s on this machine: above that the simulator and the driver, not the gateway, are the limit)` : '') +
      '.',
    '',
    table(
      ['rate (req/s)', 'source', 'direct p99', 'gateway p99', 'overhead p50', 'overhead p99', 'answered (req/s)', 'errors', 'gateway CPU (cores)', 'verdict'],
      sorted.map((p) => [
        String(p.rate),
        p.source,
        ms(p.direct.latency.p99),
        ms(p.gateway.latency.p99),
        ms(p.overhead.p50),
        ms(p.overhead.p99),
        p.gateway.achievedRate.toFixed(0),
        String(p.gateway.errors + p.gateway.dropped),
        ms(p.gateway.gatewayCores),
        p.verdict,
      ]),
    ),
  ].join('\n');
  return {
    id: 'max-rate',
    title: '2. Highest rate with p99 overhead ≤ 5 ms',
    markdown,
    data: { bestRate: best, floorSaturatedAt, probes: sorted },
    budgets: [],
    seconds: (performance.now() - started) / 1000,
  };
}
