/**
 * Admission control: a global in-flight limit, optional per-model limits, and a bounded FIFO
 * wait queue with a timeout. A request that finds the queue full, or waits past the timeout,
 * is refused with 429 and a Retry-After, so overload shows up at the edge instead of as a
 * pile-up of slow requests inside the gateway.
 */
import { abortedError, GatewayError } from '../errors.js';
import type { CancelSignal } from '../cancellation.js';

export interface AdmissionLimits {
  maxInFlight: number;
  maxQueue: number;
  queueTimeoutMs: number;
  modelMaxInFlight: Record<string, number>;
}

export interface AdmissionEvents {
  changed?(inFlight: number, queued: number): void;
  shed?(reason: 'queue_full' | 'queue_timeout'): void;
}

interface Waiter {
  model: string;
  resolve: (release: () => void) => void;
  reject: (err: GatewayError) => void;
  timer: NodeJS.Timeout;
  onAbort: () => void;
  signal: CancelSignal;
}

export class AdmissionController {
  private inFlight = 0;
  private readonly perModel = new Map<string, number>();
  private readonly queue: Waiter[] = [];

  constructor(
    private limits: AdmissionLimits,
    private readonly events: AdmissionEvents = {},
  ) {}

  get state(): { inFlight: number; queued: number; limits: AdmissionLimits; perModel: Record<string, number> } {
    return { inFlight: this.inFlight, queued: this.queue.length, limits: { ...this.limits }, perModel: Object.fromEntries(this.perModel) };
  }

  setLimits(limits: AdmissionLimits): void {
    this.limits = limits;
    this.drain();
  }

  /**
   * Resolves with a release function once the request holds a slot. `deadlineAt` (ms since the
   * epoch) is the request's own deadline: waiting past it fails the request as timed out (504),
   * not as the gateway shedding load.
   */
  acquire(model: string, signal: CancelSignal, deadlineAt = Number.POSITIVE_INFINITY): Promise<() => void> {
    // Waiters are drained on every release, so any still queued are blocked by their model's own
    // limit; a request with room may pass them without breaking FIFO for the global limit.
    if (this.hasRoom(model)) return Promise.resolve(this.take(model));
    if (this.queue.length >= this.limits.maxQueue) {
      this.events.shed?.('queue_full');
      return Promise.reject(new GatewayError('overloaded', 'The gateway is at capacity; retry shortly', { retryAfterSeconds: 1 }));
    }
    const untilDeadlineMs = deadlineAt - Date.now();
    if (untilDeadlineMs <= 0) return Promise.reject(deadlinePassedWhileQueued());
    const deadlineFirst = untilDeadlineMs < this.limits.queueTimeoutMs;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        model,
        resolve,
        reject,
        signal,
        timer: setTimeout(
          () => {
            this.remove(waiter);
            if (deadlineFirst) {
              reject(deadlinePassedWhileQueued());
              return;
            }
            this.events.shed?.('queue_timeout');
            reject(new GatewayError('overloaded', `Waited ${this.limits.queueTimeoutMs} ms for capacity; retry shortly`, { retryAfterSeconds: 1 }));
          },
          deadlineFirst ? untilDeadlineMs : this.limits.queueTimeoutMs,
        ),
        onAbort: () => {
          this.remove(waiter);
          reject(abortedError(signal, 'The client closed the connection while queued'));
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
      this.notify();
    });
  }

  private hasRoom(model: string): boolean {
    if (this.inFlight >= this.limits.maxInFlight) return false;
    const cap = this.limits.modelMaxInFlight[model];
    return cap === undefined || (this.perModel.get(model) ?? 0) < cap;
  }

  private take(model: string): () => void {
    this.inFlight += 1;
    this.perModel.set(model, (this.perModel.get(model) ?? 0) + 1);
    this.notify();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      const n = (this.perModel.get(model) ?? 1) - 1;
      if (n === 0) this.perModel.delete(model);
      else this.perModel.set(model, n);
      this.drain();
      this.notify();
    };
  }

  private drain(): void {
    for (let i = 0; i < this.queue.length; ) {
      const w = this.queue[i]!;
      if (!this.hasRoom(w.model)) {
        i += 1;
        continue;
      }
      this.queue.splice(i, 1);
      clearTimeout(w.timer);
      w.signal.removeEventListener('abort', w.onAbort);
      w.resolve(this.take(w.model));
    }
  }

  private remove(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
    clearTimeout(w.timer);
    w.signal.removeEventListener('abort', w.onAbort);
    this.notify();
  }

  private notify(): void {
    this.events.changed?.(this.inFlight, this.queue.length);
  }
}

function deadlinePassedWhileQueued(): GatewayError {
  return new GatewayError('upstream_timeout', 'The request deadline (x-request-timeout-ms) passed while waiting for capacity', { upstreamFault: false });
}
