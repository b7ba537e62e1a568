/**
 * The "anomaly detected" warning, at most once per model and signal every `intervalMs`. On a
 * busy 2-core machine every GC pause makes a few requests 3σ slow: at 500 req/s the detector
 * flagged ~5% of requests, 25 warnings a second of normal operation (bench/). Every anomaly still
 * counts in anomalies_detected_total and joins the diagnostics list; the log keeps the first of
 * each interval and says how many it left out since the last line (`suppressed`).
 */
import type { Anomaly } from './anomaly-detector.js';

export class AnomalyWarnings {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly warn: (a: Anomaly, suppressed: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  report(a: Anomaly): void {
    const key = `${a.model}\u0000${a.signal}`;
    const t = this.now();
    const entry = this.last.get(key);
    if (entry !== undefined && t - entry.at < this.intervalMs) {
      entry.suppressed += 1;
      return;
    }
    this.warn(a, entry?.suppressed ?? 0);
    this.last.set(key, { at: t, suppressed: 0 });
  }
}
