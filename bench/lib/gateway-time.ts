/**
 * Where the gateway's wall time went during a phase, beyond its CPU: how long its main thread
 * was ready to run but waited for a core (the kernel's run queue, from
 * /proc/<pid>/task/<pid>/schedstat), and how long V8 stopped it to collect garbage (prom-client's
 * `nodejs_gc_duration_seconds` on the gateway's own /metrics). On a 2-core machine that also
 * runs the simulator and the load generator, these two are what the p99 is made of (bench/HISTORY.md,
 * waiting for a core and GC pauses), so the tables print them next to it.
 */
import { readFile } from 'node:fs/promises';

export interface SchedStat {
  /** Nanoseconds on a CPU, waiting on a run queue, and the number of times it was scheduled. */
  onCpuNs: number;
  runQueueNs: number;
  slices: number;
}

/** Parses a schedstat line: "<on-cpu ns> <run-queue ns> <timeslices>". */
export function parseSchedStat(text: string): SchedStat | undefined {
  const fields = text.trim().split(/\s+/).map(Number);
  if (fields.length < 3 || fields.some((n) => !Number.isFinite(n))) return undefined;
  return { onCpuNs: fields[0]!, runQueueNs: fields[1]!, slices: fields[2]! };
}

/** The main thread's schedstat (its thread id is the process id); undefined off Linux. */
export async function mainThreadSchedStat(pid: number): Promise<SchedStat | undefined> {
  try {
    return parseSchedStat(await readFile(`/proc/${pid}/task/${pid}/schedstat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface GcTotals {
  pauses: number;
  seconds: number;
  /** Pauses longer than 10 ms (above prom-client's 0.01 s bucket). */
  over10ms: number;
}

/** Sums `nodejs_gc_duration_seconds` over every GC kind in a Prometheus text exposition. */
export function parseGcTotals(metricsText: string): GcTotals | undefined {
  let pauses = 0;
  let seconds = 0;
  let upTo10ms = 0;
  let seen = false;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('nodejs_gc_duration_seconds')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    if (line.startsWith('nodejs_gc_duration_seconds_count')) {
      pauses += value;
      seen = true;
    } else if (line.startsWith('nodejs_gc_duration_seconds_sum')) {
      seconds += value;
    } else if (line.startsWith('nodejs_gc_duration_seconds_bucket') && line.includes('le="0.01"')) {
      upTo10ms += value;
    }
  }
  return seen ? { pauses, seconds, over10ms: pauses - upTo10ms } : undefined;
}

export async function gatewayGcTotals(gatewayUrl: string): Promise<GcTotals | undefined> {
  const res = await fetch(`${gatewayUrl}/metrics`).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  return parseGcTotals(await res.text());
}

export interface GatewayTime {
  /** Milliseconds per second of wall time the main thread ran on a core (the process's other threads excluded). */
  mainThreadCpuMsPerS?: number;
  /** Milliseconds per second of wall time the main thread waited for a core. */
  runQueueMsPerS?: number;
  /** Mean run-queue wait each time it was scheduled (µs). */
  runQueueUsPerSlice?: number;
  /** Milliseconds per second of wall time in GC pauses, their number, and those over 10 ms. */
  gcMsPerS?: number;
  gcPauses?: number;
  gcPausesOver10ms?: number;
}

export interface GatewayTimeWindow {
  stop(): Promise<GatewayTime>;
}

/** Starts a window; stop() returns what happened in it. Parts the machine cannot tell stay absent. */
export async function startGatewayTimeWindow(pid: number, gatewayUrl: string | undefined): Promise<GatewayTimeWindow> {
  const t0 = performance.now();
  const sched0 = await mainThreadSchedStat(pid);
  const gc0 = gatewayUrl ? await gatewayGcTotals(gatewayUrl) : undefined;
  return {
    async stop() {
      const sched1 = await mainThreadSchedStat(pid);
      // The wall clock brackets both schedstat reads (t0 before the first, this after the last), so
      // the CPU counted can never exceed the window: read before it, the read itself spilled over
      // (1,001.9 ms/s of a busy thread once in the test).
      const wallS = (performance.now() - t0) / 1000;
      const gc1 = gatewayUrl ? await gatewayGcTotals(gatewayUrl) : undefined;
      const time: GatewayTime = {};
      if (sched0 && sched1 && wallS > 0) {
        const waitNs = sched1.runQueueNs - sched0.runQueueNs;
        const slices = sched1.slices - sched0.slices;
        time.mainThreadCpuMsPerS = (sched1.onCpuNs - sched0.onCpuNs) / 1e6 / wallS;
        time.runQueueMsPerS = waitNs / 1e6 / wallS;
        time.runQueueUsPerSlice = slices > 0 ? waitNs / 1e3 / slices : 0;
      }
      if (gc0 && gc1 && wallS > 0) {
        time.gcMsPerS = ((gc1.seconds - gc0.seconds) * 1000) / wallS;
        time.gcPauses = gc1.pauses - gc0.pauses;
        time.gcPausesOver10ms = gc1.over10ms - gc0.over10ms;
      }
      return time;
    },
  };
}
