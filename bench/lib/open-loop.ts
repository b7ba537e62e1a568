/**
 * A constant-arrival (open-loop) load driver. Request i is due at start + i/rate whatever the
 * server is doing, and its latency is measured from that scheduled time, not from when it was
 * actually sent: a server (or a driver) that falls behind shows up as latency instead of
 * quietly lowering the offered rate (the "coordinated omission" of closed-loop drivers).
 *
 * The driver sleeps between arrivals with timers rather than spinning, because on a 2-core
 * machine a spinning driver would take the CPU the gateway needs. Timer lateness is reported
 * as `sendLagMs` so the reader can see how punctual the driver was.
 */

export interface OpenLoopOptions {
  /** Arrivals per second. */
  rate: number;
  /** How long arrivals are scheduled for; the driver then waits for the stragglers. */
  durationMs: number;
  /**
   * Sends request `index`, due at `scheduledAt` (on the `now` clock); resolves when its answer
   * is complete, rejects when it failed.
   */
  send: (index: number, scheduledAt: number) => Promise<void>;
  /**
   * Arrivals beyond this many outstanding requests are not sent and count as `dropped`, so an
   * overloaded server cannot make the driver pile up sockets without bound. Default 4096.
   */
  maxOutstanding?: number;
  /** How long to wait for outstanding requests after the last arrival. Default 10 s. */
  drainTimeoutMs?: number;
  /** The clock, in ms (tests may pass their own); default performance.now. */
  now?: () => number;
}

export interface OpenLoopResult {
  rate: number;
  scheduled: number;
  completed: number;
  errors: number;
  dropped: number;
  /** Still outstanding when the drain timeout passed (counted in `errors` too). */
  timedOut: number;
  /** Completion time minus scheduled time, for every completed request. */
  latenciesMs: number[];
  /** Actual send time minus scheduled time, for every sent request. */
  sendLagMs: number[];
  /** Scheduled time of each sent request, relative to the start (for tests and plots). */
  scheduledAtMs: number[];
  /** From the first scheduled arrival to the last completion. */
  elapsedMs: number;
  /** Up to five distinct error messages. */
  errorSamples: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { rate, durationMs, send } = options;
  if (!(rate > 0) || !(durationMs > 0)) throw new Error('rate and durationMs must be positive');
  const now = options.now ?? (() => performance.now());
  const maxOutstanding = options.maxOutstanding ?? 4096;
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const intervalMs = 1000 / rate;
  const total = Math.max(1, Math.floor((durationMs * rate) / 1000));

  const result: OpenLoopResult = {
    rate,
    scheduled: total,
    completed: 0,
    errors: 0,
    dropped: 0,
    timedOut: 0,
    latenciesMs: [],
    sendLagMs: [],
    scheduledAtMs: [],
    elapsedMs: 0,
    errorSamples: [],
  };
  const noteError = (err: unknown): void => {
    result.errors += 1;
    const message = err instanceof Error ? err.message : String(err);
    if (result.errorSamples.length < 5 && !result.errorSamples.includes(message)) result.errorSamples.push(message);
  };

  let outstanding = 0;
  let lastCompletion = 0;
  let drained: (() => void) | undefined;
  // Set once the result is handed back: a straggler that ends later must not change it.
  let closed = false;
  const start = now();

  const fire = (index: number, scheduledAt: number): void => {
    if (outstanding >= maxOutstanding) {
      result.dropped += 1;
      return;
    }
    outstanding += 1;
    result.sendLagMs.push(now() - scheduledAt);
    result.scheduledAtMs.push(scheduledAt - start);
    let promise: Promise<void>;
    try {
      promise = send(index, scheduledAt);
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise.then(
      () => {
        if (closed) return;
        const done = now();
        result.completed += 1;
        result.latenciesMs.push(done - scheduledAt);
        lastCompletion = Math.max(lastCompletion, done);
      },
      (err: unknown) => {
        if (closed) return;
        lastCompletion = Math.max(lastCompletion, now());
        noteError(err);
      },
    ).finally(() => {
      outstanding -= 1;
      if (outstanding === 0) drained?.();
    });
  };

  let next = 0;
  while (next < total) {
    const t = now();
    // Everything due by now goes out in this wake-up, each stamped with its own schedule.
    while (next < total && start + next * intervalMs <= t) {
      fire(next, start + next * intervalMs);
      next += 1;
    }
    if (next < total) await sleep(Math.max(0, start + next * intervalMs - now()));
  }

  if (outstanding > 0) {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      drained = resolve;
      timer = setTimeout(resolve, drainTimeoutMs);
    });
    // A pending drain timer would keep the process alive long after the run.
    clearTimeout(timer);
  }
  if (outstanding > 0) {
    result.timedOut = outstanding;
    result.errors += outstanding;
    if (result.errorSamples.length < 5) result.errorSamples.push(`${outstanding} requests still outstanding after ${drainTimeoutMs} ms`);
  }
  closed = true;
  result.elapsedMs = (result.timedOut > 0 ? now() : Math.max(lastCompletion, start)) - start;
  return result;
}
