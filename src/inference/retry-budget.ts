/**
 * Caps retries at a share of recent requests (per model), so that during an outage retries
 * cannot multiply the load on a struggling Triton. Counts live in ten rolling buckets.
 */
export interface RetryBudgetSettings {
  /** Retries allowed as a fraction of requests in the window (e.g. 0.2 = 20%). */
  ratio: number;
  /** Retries always allowed per window, so a quiet model can still retry a one-off failure. */
  minPerWindow: number;
  windowMs: number;
}

const buckets = 10;

class Window {
  private readonly requests = new Array<number>(buckets).fill(0);
  private readonly retries = new Array<number>(buckets).fill(0);
  private bucketStart = 0;
  private index = 0;

  constructor(private readonly bucketMs: number) {}

  private roll(now: number): void {
    if (this.bucketStart === 0) this.bucketStart = now;
    let steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    if (steps <= 0) return;
    if (steps > buckets) steps = buckets;
    for (let i = 0; i < steps; i += 1) {
      this.index = (this.index + 1) % buckets;
      this.requests[this.index] = 0;
      this.retries[this.index] = 0;
    }
    this.bucketStart = now - ((now - this.bucketStart) % this.bucketMs);
  }

  addRequest(now: number): void {
    this.roll(now);
    this.requests[this.index]! += 1;
  }

  addRetry(now: number): void {
    this.roll(now);
    this.retries[this.index]! += 1;
  }

  totals(now: number): { requests: number; retries: number } {
    this.roll(now);
    return { requests: this.requests.reduce((a, b) => a + b, 0), retries: this.retries.reduce((a, b) => a + b, 0) };
  }
}

export class RetryBudget {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly settings: RetryBudgetSettings) {}

  private window(model: string): Window {
    let w = this.windows.get(model);
    if (!w) {
      w = new Window(this.settings.windowMs / buckets);
      this.windows.set(model, w);
    }
    return w;
  }

  recordRequest(model: string, now = Date.now()): void {
    this.window(model).addRequest(now);
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryAcquire(model: string, now = Date.now()): boolean {
    const w = this.window(model);
    const { requests, retries } = w.totals(now);
    if (retries >= this.settings.minPerWindow && retries >= requests * this.settings.ratio) return false;
    w.addRetry(now);
    return true;
  }
}
