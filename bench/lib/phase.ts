/**
 * One measured phase of non-streamed traffic at a fixed arrival rate: a short unrecorded
 * warm-up at the same rate, then the open-loop run with the CPU of the gateway, the simulator
 * and this driver read around it.
 */
import { runOpenLoop } from './open-loop.js';
import { median, summarize, type LatencySummary } from './percentiles.js';
import { startGatewayTimeWindow, type GatewayTime } from './gateway-time.js';
import { startCpuWindow } from './proc-stats.js';
import type { SpeedProbe } from './speed-probe.js';

export interface PhaseResult {
  path: string;
  rate: number;
  durationMs: number;
  scheduled: number;
  completed: number;
  errors: number;
  dropped: number;
  /** Completed requests per second over the phase. */
  achievedRate: number;
  latency: LatencySummary;
  /** How late the driver sent (timer lateness on a busy machine). */
  sendLag: LatencySummary;
  /** CPU of the gateway process (cores busy) and per completed request (µs); absent for the direct path. */
  gatewayCores?: number;
  gatewayCpuUsPerRequest?: number;
  /** Run-queue wait of the gateway's main thread and its GC pauses (gateway-time.ts). */
  gatewayTime?: GatewayTime;
  simCores: number;
  driverCores: number;
  /** The machine's speed during the phase (speed-probe.ts): median ns per op of a fixed workload; absent without a probe. */
  machineNsPerOp?: number;
  errorSamples: string[];
}

export interface PhaseTarget {
  path: string;
  send: (index: number) => Promise<void>;
  gatewayPid?: number;
  /** Where the gateway's /metrics is, for its GC pauses (absent when metrics are off). */
  gatewayUrl?: string;
  simPid: number;
  /** The machine-speed probe, if the run has one. */
  speed?: SpeedProbe;
}

export async function measurePhase(target: PhaseTarget, rate: number, durationMs: number, warmupMs: number): Promise<PhaseResult> {
  if (warmupMs > 0) await runOpenLoop({ rate, durationMs: warmupMs, send: (i) => target.send(i), drainTimeoutMs: 5_000 });
  // Opened first and closed last, so its /metrics scrapes stay out of the CPU windows.
  const time = target.gatewayPid === undefined ? undefined : await startGatewayTimeWindow(target.gatewayPid, target.gatewayUrl);
  const gw = target.gatewayPid === undefined ? undefined : startCpuWindow(target.gatewayPid);
  const sim = startCpuWindow(target.simPid);
  const speed = target.speed?.window();
  const driver0 = process.cpuUsage();
  const driverT0 = performance.now();
  const run = await runOpenLoop({ rate, durationMs, send: (i) => target.send(i), drainTimeoutMs: 10_000 });
  const driverUsage = process.cpuUsage(driver0);
  const driverWall = (performance.now() - driverT0) / 1000;
  const gwCpu = gw?.stop();
  const simCpu = sim.stop();
  const machine = speed?.stop();
  const gatewayTime = await time?.stop();
  const result: PhaseResult = {
    path: target.path,
    rate,
    durationMs,
    scheduled: run.scheduled,
    completed: run.completed,
    errors: run.errors,
    dropped: run.dropped,
    achievedRate: run.elapsedMs > 0 ? (run.completed / run.elapsedMs) * 1000 : 0,
    latency: summarize(run.latenciesMs),
    sendLag: summarize(run.sendLagMs),
    simCores: simCpu.cores,
    driverCores: (driverUsage.user + driverUsage.system) / 1e6 / driverWall,
    errorSamples: run.errorSamples,
  };
  if (gwCpu) {
    result.gatewayCores = gwCpu.cores;
    result.gatewayCpuUsPerRequest = run.completed > 0 ? (gwCpu.cpuSeconds / run.completed) * 1e6 : Number.NaN;
  }
  if (gatewayTime) result.gatewayTime = gatewayTime;
  if (machine) result.machineNsPerOp = machine.nsPerOp;
  return result;
}

/** The gateway's main thread's CPU per completed request (µs), from its schedstat over the phase; NaN without it. */
export function mainThreadCpuUsPerRequest(p: Pick<PhaseResult, 'gatewayTime' | 'achievedRate'>): number {
  return ((p.gatewayTime?.mainThreadCpuMsPerS ?? Number.NaN) * 1000) / p.achievedRate;
}

/** Gateway minus direct, at the median and the 99th percentile (ms). */
export function overhead(direct: Pick<PhaseResult, 'latency'>, gateway: Pick<PhaseResult, 'latency'>): { p50: number; p99: number; mean: number } {
  return {
    p50: gateway.latency.p50 - direct.latency.p50,
    p99: gateway.latency.p99 - direct.latency.p99,
    mean: gateway.latency.mean - direct.latency.mean,
  };
}

/** The phase delivered what was offered: every request answered, and nothing dropped. */
export function held(phase: Pick<PhaseResult, 'errors' | 'dropped' | 'achievedRate' | 'rate'>): boolean {
  return phase.errors === 0 && phase.dropped === 0 && phase.achievedRate >= phase.rate * 0.95;
}

/** Several rounds of one path at one rate: medians of the per-round figures, sums of the counts. */
export interface PhaseStats {
  path: string;
  rate: number;
  rounds: number;
  scheduled: number;
  completed: number;
  errors: number;
  dropped: number;
  achievedRate: number;
  latency: { p50: number; p99: number; mean: number };
  sendLagP99: number;
  gatewayCores?: number;
  gatewayCpuUsPerRequest?: number;
  /** Medians over the rounds. */
  gatewayTime?: GatewayTime;
  simCores: number;
  /** Median over the rounds of each phase's machine speed (ns per op; lower is faster). */
  machineNsPerOp?: number;
  errorSamples: string[];
}

export function combineRounds(phases: PhaseResult[]): PhaseStats {
  const first = phases[0]!;
  const sum = (pick: (p: PhaseResult) => number): number => phases.reduce((n, p) => n + pick(p), 0);
  const mid = (pick: (p: PhaseResult) => number | undefined): number => median(phases.map((p) => pick(p) ?? Number.NaN));
  const stats: PhaseStats = {
    path: first.path,
    rate: first.rate,
    rounds: phases.length,
    scheduled: sum((p) => p.scheduled),
    completed: sum((p) => p.completed),
    errors: sum((p) => p.errors),
    dropped: sum((p) => p.dropped),
    achievedRate: mid((p) => p.achievedRate),
    latency: { p50: mid((p) => p.latency.p50), p99: mid((p) => p.latency.p99), mean: mid((p) => p.latency.mean) },
    sendLagP99: Math.max(...phases.map((p) => p.sendLag.p99)),
    simCores: mid((p) => p.simCores),
    errorSamples: [...new Set(phases.flatMap((p) => p.errorSamples))].slice(0, 5),
  };
  if (first.gatewayCores !== undefined) {
    stats.gatewayCores = mid((p) => p.gatewayCores);
    stats.gatewayCpuUsPerRequest = mid((p) => p.gatewayCpuUsPerRequest);
  }
  const speeds = phases.flatMap((p) => (p.machineNsPerOp === undefined ? [] : [p.machineNsPerOp]));
  if (speeds.length > 0) stats.machineNsPerOp = median(speeds);
  if (first.gatewayTime) {
    const time: GatewayTime = {};
    for (const key of ['mainThreadCpuMsPerS', 'runQueueMsPerS', 'runQueueUsPerSlice', 'gcMsPerS', 'gcPauses', 'gcPausesOver10ms'] as const) {
      const value = mid((p) => p.gatewayTime?.[key]);
      if (!Number.isNaN(value)) time[key] = value;
    }
    stats.gatewayTime = time;
  }
  return stats;
}

/** The median over rounds of each round's gateway − direct difference. */
export function medianOverhead(pairs: Array<{ direct: PhaseResult; gateway: PhaseResult }>): { p50: number; p99: number; mean: number } {
  const per = pairs.map((r) => overhead(r.direct, r.gateway));
  return { p50: median(per.map((o) => o.p50)), p99: median(per.map((o) => o.p99)), mean: median(per.map((o) => o.mean)) };
}
