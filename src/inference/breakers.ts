/**
 * One opossum circuit breaker per (Triton target, Triton model). Only upstream faults count
 * (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, cut or stalled streams: GatewayError.upstreamFault);
 * client errors and client cancellations are filtered out. When half-open, opossum lets exactly
 * one probe through; its outcome closes or re-opens the breaker, and a probe the client gave up
 * on re-opens it (no verdict, so the next probe decides).
 *
 * An attempt is "fired" through the breaker for its whole life: the action resolves when the
 * stream ends, so a stream cut after its first token still counts as a failure.
 */
import CircuitBreaker from 'opossum';
import { GatewayError, isGatewayError } from '../errors.js';

export type BreakerState = 'closed' | 'half_open' | 'open';

export interface BreakerSettings {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeoutMs: number;
  rollingWindowMs: number;
}

export interface BreakerEvents {
  /** A breaker was made, closed, on the first call to its (target, model). */
  created?(target: string, model: string): void;
  transition?(target: string, model: string, to: BreakerState): void;
}

export interface BreakerInfo {
  target: string;
  model: string;
  state: BreakerState;
  openedAt: number | null;
  retryAt: number | null;
  fires: number;
  failures: number;
  rejects: number;
}

type Attempt<T> = () => Promise<T>;

/** Ends of an attempt that Triton had no part in (the client, its deadline, the gateway's drain). */
const SAYS_NOTHING_ABOUT_TRITON: ReadonlySet<string> = new Set(['client_cancelled', 'upstream_timeout', 'request_timeout', 'shutting_down']);

interface Entry {
  target: string;
  model: string;
  breaker: CircuitBreaker<[Attempt<unknown>], unknown>;
  openedAt: number | null;
}

export class BreakerBoard {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly settings: BreakerSettings,
    private readonly events: BreakerEvents = {},
  ) {}

  private entry(target: string, model: string): Entry {
    const key = `${target}\u0000${model}`;
    let e = this.entries.get(key);
    if (e) return e;
    const breaker = new CircuitBreaker<[Attempt<unknown>], unknown>((attempt) => attempt(), {
      name: `${target}/${model}`,
      timeout: false,
      errorThresholdPercentage: this.settings.errorThresholdPercentage,
      volumeThreshold: this.settings.volumeThreshold,
      resetTimeout: this.settings.resetTimeoutMs,
      rollingCountTimeout: this.settings.rollingWindowMs,
      rollingCountBuckets: 10,
      // By default opossum keeps every call's latency for the window and concatenates and sorts
      // them all each time it reads its stats: on every failure (to decide whether to open) and
      // every bucket (the 'snapshot' event). With 5,000 calls in the window that is ~0.1 ms, with
      // 20,000 ~1.5 ms, so a Triton failing one call in five at 2,000 req/s would spend most of
      // the event loop sorting (bench/HISTORY.md, opossum's latency window). Only the counts are
      // read here (list()), and nothing listens to snapshots.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      errorFilter: (err: unknown) => {
        if (isGatewayError(err) && err.upstreamFault) return false;
        // opossum takes a filtered error for a success, and a success while half-open closes the
        // breaker. An attempt the client abandoned, or whose own deadline or the drain ended it,
        // says nothing about Triton: counted as a failure there, it re-opens the breaker for the
        // next probe instead of closing it on a Triton that may still be down. Any such attempt,
        // not only the probe: opossum would close the breaker on any of them.
        if (breaker.halfOpen && isGatewayError(err) && SAYS_NOTHING_ABOUT_TRITON.has(err.code)) return false;
        return true;
      },
    });
    const created: Entry = { target, model, breaker, openedAt: null };
    breaker.on('open', () => {
      created.openedAt = Date.now();
      this.events.transition?.(target, model, 'open');
    });
    breaker.on('halfOpen', () => this.events.transition?.(target, model, 'half_open'));
    breaker.on('close', () => {
      created.openedAt = null;
      this.events.transition?.(target, model, 'closed');
    });
    this.entries.set(key, created);
    this.events.created?.(target, model);
    return created;
  }

  /**
   * Runs `start` through the breaker. `start` resolves with its value at the attempt's commit
   * point and returns, through `ended`, the promise of the attempt's end (what the breaker
   * counts). Rejects with a GatewayError `upstream_unavailable` (breakerOpen) when open.
   */
  run<T>(target: string, model: string, start: () => Promise<{ value: T; ended: Promise<void> }>): Promise<T> {
    const { breaker } = this.entry(target, model);
    return new Promise<T>((resolve, reject) => {
      let started = false;
      breaker
        .fire(async () => {
          const { value, ended } = await start();
          started = true;
          resolve(value);
          await ended;
        })
        .catch((err: unknown) => {
          if (started) return; // the attempt's end is reported by the relay itself
          if ((err as { code?: string }).code === 'EOPENBREAKER') {
            reject(new BreakerOpenError(target, model, this.retryAfterSeconds(target, model)));
          } else {
            reject(err);
          }
        });
    });
  }

  state(target: string, model: string): BreakerState {
    const b = this.entries.get(`${target}\u0000${model}`)?.breaker;
    if (!b) return 'closed';
    return b.opened ? 'open' : b.halfOpen ? 'half_open' : 'closed';
  }

  /** Seconds until the breaker lets a probe through (at least 1). */
  retryAfterSeconds(target: string, model: string): number {
    const e = this.entries.get(`${target}\u0000${model}`);
    if (!e?.openedAt) return 1;
    return Math.max(1, Math.ceil((e.openedAt + this.settings.resetTimeoutMs - Date.now()) / 1000));
  }

  list(): BreakerInfo[] {
    return [...this.entries.values()].map((e) => {
      const stats = e.breaker.stats;
      const state = this.state(e.target, e.model);
      return {
        target: e.target,
        model: e.model,
        state,
        openedAt: e.openedAt,
        retryAt: state === 'open' && e.openedAt ? e.openedAt + this.settings.resetTimeoutMs : null,
        fires: stats.fires,
        failures: stats.failures,
        rejects: stats.rejects,
      };
    });
  }

  shutdown(): void {
    for (const e of this.entries.values()) e.breaker.shutdown();
  }
}

export class BreakerOpenError extends GatewayError {
  constructor(
    readonly target: string,
    readonly model: string,
    retryAfterSeconds: number,
  ) {
    super('upstream_unavailable', `The circuit breaker for ${model} on ${target} is open`, { retryAfterSeconds });
  }
}
