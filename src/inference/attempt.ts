/**
 * One attempt at a route, from the Triton call to the end of its relay: the call's cancellation
 * (client gone, timeout), the watchdog timing Triton's silence, the attempt's span, and the
 * relay of its deltas to the consumer. GenerationRouter.start() makes one per attempt.
 *
 * A class, not closures inside start(), for the garbage collector. An async generator function
 * written inside start() was a new function per attempt, and V8 gives each generator function its
 * own initial map the first time it is called. Maps live in the old generation, and that map's
 * constructor slot pointed at the young closure, so every scavenge kept the closure, the request
 * it captured and everything hanging off it alive until the next full GC: with observability off,
 * ~2.7 KB promoted per request and scavenge pauses twice as long (bench/HISTORY.md, a generator function per request). `relay()`
 * as a method is one function, with one map, for every attempt.
 */
import { Cancellation, type CancelSignal } from '../cancellation.js';
import { abortedError, GatewayError, isGatewayError } from '../errors.js';
import type { GenerationDelta } from '../triton/types.js';
import type { AttemptObserver } from './observer.js';
import { Watchdog } from './watchdog.js';

export interface AttemptTimeouts {
  /** Longest wait for the first response. */
  firstMs: number;
  /** Longest wait between responses after the first. */
  idleMs: number;
  /** Whether a first-response timeout is a time-to-first-token timeout (streams with a TTFT budget below the total). */
  firstIsTtft: boolean;
  /**
   * Whether the total deadline is the client's own (`x-request-timeout-ms`, shorter than the
   * model's): its passing then says nothing about Triton, and no breaker may count it.
   */
  clientDeadline: boolean;
}

type Upstream = AsyncGenerator<GenerationDelta, void, undefined>;

export class Attempt {
  /** Settles when the attempt is over (the breaker counts this); never rejects unobserved. */
  readonly ended: Promise<void>;
  /** Passed to the Triton call: aborting it cancels the call. */
  readonly controller = new Cancellation();
  private settle!: { resolve: () => void; reject: (err: GatewayError) => void };
  private readonly watchdog: Watchdog;
  private phase: 'first' | 'next' = 'first';
  private expired: GatewayError | undefined;
  private upstream: Upstream | undefined;
  private firstDelta: GenerationDelta | undefined;
  private relayStarted = false;

  constructor(
    /** The request's own signal: aborted when the client goes away. */
    private readonly clientSignal: CancelSignal,
    private readonly obs: AttemptObserver,
    private readonly timeouts: AttemptTimeouts,
  ) {
    this.ended = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // Awaited by the breaker; the no-op catch keeps an unobserved failure from being "unhandled".
    this.ended.catch(() => undefined);
    this.watchdog = new Watchdog(this.onSilence);
    clientSignal.addEventListener('abort', this.onClientGone, { once: true });
  }

  /**
   * Waits for the call's first response. Throws (after ending the attempt) when Triton fails or
   * stays silent before it; the relay then starts with that response.
   */
  async first(upstream: Upstream): Promise<GenerationDelta> {
    this.upstream = upstream;
    this.watchdog.arm(this.timeouts.firstMs);
    let first: IteratorResult<GenerationDelta>;
    try {
      first = await upstream.next();
      this.watchdog.pause();
      if (first.done) throw new GatewayError('upstream_bad_response', 'Triton ended the call without a response', { upstreamFault: true });
    } catch (err) {
      this.cleanup();
      const gErr = this.judged(this.expired ?? toGatewayError(err));
      this.obs.end(gErr);
      throw gErr;
    }
    this.obs.firstResponse();
    this.firstDelta = first.value;
    return first.value;
  }

  /** The deltas from the first response on; ending or leaving it early ends the attempt. */
  async *relay(): AsyncGenerator<GenerationDelta> {
    this.relayStarted = true;
    const upstream = this.upstream!;
    const firstDelta = this.firstDelta!;
    let failure: GatewayError | undefined;
    // Triton finished the request: its call ends by itself, so nothing is cancelled (aborting
    // here cost an AbortError, a GatewayError and an RST_STREAM on every request).
    let complete = firstDelta.final;
    try {
      yield firstDelta;
      if (firstDelta.final) return;
      this.phase = 'next';
      while (true) {
        this.watchdog.arm(this.timeouts.idleMs);
        let next: IteratorResult<GenerationDelta>;
        try {
          next = await upstream.next();
        } catch (err) {
          throw this.expired ?? toGatewayError(err);
        }
        // Paused while the consumer holds the token: a slow reader is not a silent Triton (the
        // total deadline still bounds the call).
        this.watchdog.pause();
        if (next.done) return;
        complete = next.value.final;
        yield next.value;
        if (next.value.final) return;
      }
    } catch (err) {
      failure = this.judged(toGatewayError(err));
      throw failure;
    } finally {
      this.cleanup();
      // Stops the Triton call when the consumer left early (client gone, mid-stream error).
      if (!complete && !this.controller.signal.aborted) this.controller.abort();
      await upstream.return(undefined).catch(() => undefined);
      this.obs.end(failure);
      if (failure) this.settle.reject(failure);
      else this.settle.resolve();
    }
  }

  /**
   * A total deadline that is the client's own ran out (the watchdog's or gRPC's DEADLINE_EXCEEDED):
   * Triton may be healthy and the client impatient, so the breaker must not count it. A client
   * asking 100 ms of a model that takes 400 ms to its first token opened the breaker for everyone.
   */
  private judged(err: GatewayError): GatewayError {
    return this.timeouts.clientDeadline && err.code === 'upstream_timeout' ? err.withUpstreamFault(false) : err;
  }

  private readonly onSilence = (): void => {
    const { firstMs, idleMs, firstIsTtft } = this.timeouts;
    this.expired =
      this.phase === 'next'
        ? new GatewayError('upstream_idle_timeout', `No token from Triton for ${idleMs} ms`, { upstreamFault: true })
        : firstIsTtft
          ? new GatewayError('upstream_ttft_timeout', `No first token from Triton within ${firstMs} ms`, { upstreamFault: true })
          : new GatewayError('upstream_timeout', `Triton did not answer within ${firstMs} ms`, { upstreamFault: true });
    this.controller.abort();
  };

  private readonly onClientGone = (): void => {
    this.controller.abort();
    // A client gone between the first response and the relay's start: nobody will drain it.
    if (this.firstDelta !== undefined && !this.relayStarted) this.abandon();
  };

  private abandon(): void {
    this.cleanup();
    void this.upstream!.return(undefined).catch(() => undefined);
    this.obs.end(abortedError(this.clientSignal));
    this.settle.resolve();
  }

  private cleanup(): void {
    this.watchdog.clear();
    this.clientSignal.removeEventListener('abort', this.onClientGone);
  }
}

export function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  return new GatewayError('internal_error', 'Unexpected error while calling Triton', { cause: err });
}
