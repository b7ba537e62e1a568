/**
 * Samples host and process health in the background (CPU %, event-loop delay and utilisation)
 * so /debug/diagnostics answers from cached values in milliseconds, instead of blocking for a
 * second of CPU sampling as the source document's version did.
 */
import { cpus } from 'node:os';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

export interface RuntimeSample {
  sampledAt: number;
  hostCpuPercent: number | null;
  processCpuPercent: number | null;
  eventLoopDelayMs: { p50: number; p99: number; max: number } | null;
  eventLoopUtilization: number | null;
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}

export class RuntimeSampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private lastCpu = cpuTimes();
  private lastProcess = process.cpuUsage();
  private lastHr = process.hrtime.bigint();
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private current: RuntimeSample = { sampledAt: Date.now(), hostCpuPercent: null, processCpuPercent: null, eventLoopDelayMs: null, eventLoopUtilization: null };

  constructor(private readonly intervalMs = 5_000) {}

  start(): void {
    this.delay.enable();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.delay.disable();
  }

  latest(): RuntimeSample {
    return this.current;
  }

  sample(): RuntimeSample {
    const cpu = cpuTimes();
    const dTotal = cpu.total - this.lastCpu.total;
    const hostCpuPercent = dTotal > 0 ? (1 - (cpu.idle - this.lastCpu.idle) / dTotal) * 100 : null;
    const hr = process.hrtime.bigint();
    const usage = process.cpuUsage(this.lastProcess);
    const elapsedUs = Number(hr - this.lastHr) / 1000;
    const processCpuPercent = elapsedUs > 0 ? ((usage.user + usage.system) / elapsedUs) * 100 : null;
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.current = {
      sampledAt: Date.now(),
      hostCpuPercent: round(hostCpuPercent),
      processCpuPercent: round(processCpuPercent),
      eventLoopDelayMs: this.delay.count > 0
        ? { p50: this.delay.percentile(50) / 1e6, p99: this.delay.percentile(99) / 1e6, max: this.delay.max / 1e6 }
        : null,
      eventLoopUtilization: round(elu.utilization),
    };
    this.delay.reset();
    this.lastCpu = cpu;
    this.lastProcess = process.cpuUsage();
    this.lastHr = hr;
    this.lastElu = performance.eventLoopUtilization();
    return this.current;
  }
}

function round(n: number | null): number | null {
  return n === null ? null : Math.round(n * 100) / 100;
}
