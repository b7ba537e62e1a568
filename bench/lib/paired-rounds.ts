/**
 * Two gateways measured in alternating phases, compared round by round: scenario 4 (observability
 * off against on) and compare.ts (build A against B). The phases of one round are seconds apart,
 * at the same moment of a shared machine that drifts by more than most differences between rounds
 * (CPU per request of one build moved from 1,120 to 1,845 µs in one run), so each round's own
 * difference is taken first and the median over rounds after.
 */
import { median } from './percentiles.js';
import { mainThreadCpuUsPerRequest, type PhaseResult } from './phase.js';

export interface Round {
  direct: PhaseResult;
  /** The baseline: observability off, or build A. */
  off: PhaseResult;
  /** The variant: observability on, or build B. */
  on: PhaseResult;
}

/** The gateway's CPU per completed request (µs), all of its threads. */
const cpuUs = (p: PhaseResult): number => p.gatewayCpuUsPerRequest ?? Number.NaN;

/**
 * What the variant adds, paired within each round (on minus the off phase next to it), then the
 * median over rounds. The CPU is split into the main thread (the event loop: spans, metrics, the
 * log line, posting spans) and the gateway's other threads (the span export worker, V8's GC
 * helpers, libuv's pool).
 */
export function pairedExtraCost(rounds: readonly Round[]): {
  p50: number;
  mean: number;
  p99: number;
  cpuUs: number;
  /** The on phase's CPU per request over the off phase's, in per cent more. */
  cpuPercent: number;
  mainThreadCpuUs: number;
  otherThreadsCpuUs: number;
} {
  const stat = (pick: (r: Round) => number): number => median(rounds.map(pick));
  const mainUs = mainThreadCpuUsPerRequest;
  return {
    p50: stat((r) => r.on.latency.p50 - r.off.latency.p50),
    mean: stat((r) => r.on.latency.mean - r.off.latency.mean),
    p99: stat((r) => r.on.latency.p99 - r.off.latency.p99),
    cpuUs: stat((r) => cpuUs(r.on) - cpuUs(r.off)),
    cpuPercent: stat((r) => (cpuUs(r.on) / cpuUs(r.off) - 1) * 100),
    mainThreadCpuUs: stat((r) => mainUs(r.on) - mainUs(r.off)),
    otherThreadsCpuUs: stat((r) => cpuUs(r.on) - mainUs(r.on) - (cpuUs(r.off) - mainUs(r.off))),
  };
}

/** How the rounds split on one figure: the variant lower, higher (an equal round counts for neither), and the sign test's p. */
export interface RoundsSplit {
  lower: number;
  higher: number;
  p: number;
}

/**
 * In how many rounds the variant was lower and higher than the baseline on one figure, and how
 * likely that split is by chance (signTestP). A median over rounds can hide that the rounds
 * disagree; for a p99 or a mean, which one slow moment moves, the split is what says whether a
 * difference is there (bench/HISTORY.md, observability's tail). A figure a phase does not have
 * counts for neither side.
 */
export function splitOfRounds(rounds: readonly Round[], pick: (p: PhaseResult) => number | undefined): RoundsSplit {
  let lower = 0;
  let higher = 0;
  for (const r of rounds) {
    const on = pick(r.on) ?? Number.NaN;
    const off = pick(r.off) ?? Number.NaN;
    if (on < off) lower += 1;
    else if (on > off) higher += 1;
  }
  return { lower, higher, p: signTestP(lower, higher) };
}

/**
 * How likely a split at least this uneven would be if the variant made no difference, each round
 * a coin toss: the exact two-sided sign test over the rounds that differ. On 16 rounds, 12 to 4
 * is p = 0.08 and 14 to 2 is 0.004; bench/HISTORY.md called the first "at the edge of what 16
 * rounds resolve" before this was printed. Five rounds (scenario 4) can say no better than 0.06.
 */
export function signTestP(lower: number, higher: number): number {
  const n = lower + higher;
  if (n === 0) return 1;
  const fewer = Math.min(lower, higher);
  // In logarithms: 2^-n underflows to 0 beyond ~1,074 rounds, which would make an even split p = 0.
  const logHalfToN = -n * Math.LN2;
  let logChoose = 0; // ln C(n, 0)
  let tail = Math.exp(logHalfToN);
  for (let i = 1; i <= fewer; i++) {
    logChoose += Math.log((n - i + 1) / i);
    tail += Math.exp(logChoose + logHalfToN);
  }
  return Math.min(1, 2 * tail);
}

/** A p-value as it is read beside a count of rounds: "= 0.077", or "< 0.001". */
export function formatP(p: number): string {
  return p < 0.001 ? '< 0.001' : `= ${p.toPrecision(2)}`;
}
