/**
 * The readiness policy, in process: per model, the mean cost per request and the mean Triton
 * queue delay over a sliding window, against a threshold. Crossing it (with at least
 * `minRequests` samples in the window) fires one alert; it stays firing, without repeats, until
 * the mean is back at or under the threshold or the window empties, which resolves it. Each
 * transition is handed to `emit` once: that is the deduplication.
 *
 * The window is kept as 60 time buckets (count and sum each), not one entry per request: at
 * 500 req/s a five-minute window of samples was 150,000 objects that every minor GC had to
 * copy and promote. A sample leaves the window up to one bucket (1/60 of the window) late.
 */
import { randomUUID } from 'node:crypto';
import type { AlertSignal } from './events.js';

export interface SignalSettings {
  windowMs: number;
  minRequests: number;
}

export interface PolicySettings {
  cost: SignalSettings;
  queueDelay: SignalSettings;
}

export interface Thresholds {
  /** USD per request. */
  cost?: number;
  /** Microseconds. */
  queueDelay?: number;
}

export interface AlertTransition {
  model: string;
  signal: AlertSignal;
  status: 'firing' | 'resolved';
  alertId: string;
  /** The window's mean; null when the window emptied. */
  value: number | null;
  threshold: number;
  windowMs: number;
  requests: number;
}

export interface PolicySample {
  model: string;
  costUsd?: number;
  queueDelayUs?: number;
}

const bucketsPerWindow = 60;

interface Bucket {
  /** Bucket index: floor(time / bucket width). */
  index: number;
  count: number;
  sum: number;
}

interface Series {
  /** Oldest first; at most bucketsPerWindow + 1 entries. */
  buckets: Bucket[];
  count: number;
  sum: number;
  firing: { alertId: string } | undefined;
}

function bucketWidth(windowMs: number): number {
  return Math.max(1, windowMs / bucketsPerWindow);
}

export class ReadinessPolicy {
  private readonly series = new Map<string, Series>();

  constructor(
    private readonly settings: PolicySettings,
    private readonly thresholds: (model: string) => Thresholds,
    private readonly emit: (transition: AlertTransition) => void,
    private readonly now: () => number = Date.now,
  ) {}

  observe(sample: PolicySample): void {
    if (sample.costUsd !== undefined && Number.isFinite(sample.costUsd)) this.add(sample.model, 'cost', sample.costUsd);
    if (sample.queueDelayUs !== undefined && Number.isFinite(sample.queueDelayUs)) this.add(sample.model, 'queue_delay', sample.queueDelayUs);
  }

  /** Re-checks every series (resolves alerts whose window drained without traffic). */
  evaluate(): void {
    for (const k of this.series.keys()) {
      const [model, signal] = splitKey(k);
      this.check(model, signal);
    }
  }

  firing(): Array<{ model: string; signal: AlertSignal; alertId: string }> {
    const out: Array<{ model: string; signal: AlertSignal; alertId: string }> = [];
    for (const [k, s] of this.series) {
      if (!s.firing) continue;
      const [model, signal] = splitKey(k);
      out.push({ model, signal, alertId: s.firing.alertId });
    }
    return out;
  }

  private add(model: string, signal: AlertSignal, value: number): void {
    if (this.thresholdOf(model, signal) === undefined) return;
    const k = `${model}\u0000${signal}`;
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { buckets: [], count: 0, sum: 0, firing: undefined }));
    const index = Math.floor(this.now() / bucketWidth(this.windowOf(signal)));
    let last = s.buckets.at(-1);
    if (!last || last.index !== index) s.buckets.push((last = { index, count: 0, sum: 0 }));
    last.count += 1;
    last.sum += value;
    s.count += 1;
    s.sum += value;
    this.check(model, signal);
  }

  private check(model: string, signal: AlertSignal): void {
    const s = this.series.get(`${model}\u0000${signal}`);
    const threshold = this.thresholdOf(model, signal);
    if (!s || threshold === undefined) return;
    const cfg = signal === 'cost' ? this.settings.cost : this.settings.queueDelay;
    const width = bucketWidth(cfg.windowMs);
    // A bucket leaves once all of it is older than the window.
    const cutoff = this.now() - cfg.windowMs;
    while (s.buckets.length > 0 && (s.buckets[0]!.index + 1) * width <= cutoff) {
      const gone = s.buckets.shift()!;
      s.count -= gone.count;
      s.sum -= gone.sum;
    }
    const n = s.count;
    // An empty window resets the running sum, so floating-point drift cannot outlive it.
    if (n === 0) s.sum = 0;
    const mean = n > 0 ? s.sum / n : null;
    const base = { model, signal, threshold, windowMs: cfg.windowMs, requests: n };
    if (!s.firing) {
      if (mean !== null && n >= cfg.minRequests && mean > threshold) {
        s.firing = { alertId: randomUUID() };
        this.emit({ ...base, status: 'firing', alertId: s.firing.alertId, value: mean });
      }
    } else if (mean === null || mean <= threshold) {
      const alertId = s.firing.alertId;
      s.firing = undefined;
      this.emit({ ...base, status: 'resolved', alertId, value: mean });
    }
  }

  private windowOf(signal: AlertSignal): number {
    return signal === 'cost' ? this.settings.cost.windowMs : this.settings.queueDelay.windowMs;
  }

  private thresholdOf(model: string, signal: AlertSignal): number | undefined {
    const t = this.thresholds(model);
    return signal === 'cost' ? t.cost : t.queueDelay;
  }
}

function splitKey(k: string): [string, AlertSignal] {
  const i = k.lastIndexOf('\u0000');
  return [k.slice(0, i), k.slice(i + 1) as AlertSignal];
}
