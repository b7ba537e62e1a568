/**
 * A rolling z-score per (model, signal), after the source document's detector: a value more
 * than `threshold` standard deviations above the mean of the last `windowSize` values is an
 * anomaly. Above only: both signals are waits, and a request much faster than usual (a short
 * answer after long ones) is no incident, though the source's two-sided test warned of it.
 * Running sums keep it O(1) per sample on the request path.
 */
export type AnomalySignal = 'latency' | 'queue_delay';

export interface Anomaly {
  at: string;
  model: string;
  signal: AnomalySignal;
  value: number;
  mean: number;
  stddev: number;
  zScore: number;
}

class RollingWindow {
  private readonly values: number[] = [];
  private sum = 0;
  private sumSq = 0;

  constructor(private readonly size: number) {}

  /** Stats of the window before `value` joins it. */
  push(value: number): { n: number; mean: number; stddev: number } {
    const n = this.values.length;
    const mean = n > 0 ? this.sum / n : 0;
    const variance = n > 0 ? Math.max(0, this.sumSq / n - mean * mean) : 0;
    this.values.push(value);
    this.sum += value;
    this.sumSq += value * value;
    if (this.values.length > this.size) {
      const old = this.values.shift()!;
      this.sum -= old;
      this.sumSq -= old * old;
    }
    return { n, mean, stddev: Math.sqrt(variance) };
  }
}

export class AnomalyDetector {
  private readonly windows = new Map<string, RollingWindow>();
  private readonly recent: Anomaly[] = [];

  constructor(
    private readonly settings: { windowSize: number; threshold: number; minSamples: number },
    private readonly onAnomaly: (a: Anomaly) => void = () => undefined,
  ) {}

  observe(model: string, signal: AnomalySignal, value: number): Anomaly | undefined {
    const key = `${model}\u0000${signal}`;
    let w = this.windows.get(key);
    if (!w) {
      w = new RollingWindow(this.settings.windowSize);
      this.windows.set(key, w);
    }
    const { n, mean, stddev } = w.push(value);
    if (n < this.settings.minSamples || stddev === 0) return undefined;
    const zScore = (value - mean) / stddev;
    if (zScore <= this.settings.threshold) return undefined;
    const anomaly: Anomaly = { at: new Date().toISOString(), model, signal, value, mean, stddev, zScore: Math.round(zScore * 100) / 100 };
    this.recent.push(anomaly);
    if (this.recent.length > 20) this.recent.shift();
    this.onAnomaly(anomaly);
    return anomaly;
  }

  list(): Anomaly[] {
    return [...this.recent].reverse();
  }
}
