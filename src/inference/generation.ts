/**
 * One request's path through its public model's route: the primary, then its fallbacks in
 * order. Before the first byte reaches the client, a retryable failure is retried on the same
 * route (jittered backoff, within the deadline and the retry budget) and then moves on to the
 * next route, as do a model out of service, an open breaker and a time-to-first-token timeout.
 * After the first byte, failures surface to the caller (the SSE relay turns them into an
 * in-band error event). Every attempt runs through its (target, model) circuit breaker.
 */
import type { CancelSignal } from '../cancellation.js';
import type { GatewayConfig } from '../config.js';
import { abortedError, GatewayError } from '../errors.js';
import { tritonStreams, type GenerationDelta, type GenerationRequest } from '../triton/types.js';
import { Attempt, toGatewayError } from './attempt.js';
import { BreakerOpenError, type BreakerBoard } from './breakers.js';
import type { ChaosMonkey } from './chaos.js';
import type { ModelEntry, ModelRegistry } from './model-registry.js';
import type { FallbackReason, InferenceObserver } from './observer.js';
import type { RetryBudget } from './retry-budget.js';

export interface GenerateCall {
  entry: ModelEntry;
  request: GenerationRequest;
  /** Aborted when the client goes away; cancels the Triton call. */
  signal: CancelSignal;
  observer: InferenceObserver;
  /** The client's own deadline (ms since the epoch, from x-request-timeout-ms), already bounded by config. */
  requestDeadlineAt?: number;
  /** Extra gRPC metadata. */
  metadata?: Record<string, string>;
  /** The route template, for chaos scoping. */
  endpoint?: string;
  /**
   * The request as `route` must receive it, when that differs per route (chat: every model
   * renders the prompt with its own template). Throwing a retryable GatewayError skips the route.
   */
  requestFor?: (route: ModelEntry) => GenerationRequest;
}

export interface Generation {
  servedModel: string;
  fallbackReason: FallbackReason | undefined;
  /** Starts with the first Triton response, already received. */
  deltas: AsyncGenerator<GenerationDelta>;
  /** Settles when the attempt is over (the breaker counts this). */
  ended: Promise<void>;
  /** The serving route's total deadline (ms since the epoch): a relay that waits on its client stops there too. */
  deadlineAt: number;
}

/** Errors worth a second try on the same route; timeouts already spent their time. */
const retryOnSameRoute = new Set(['upstream_overloaded', 'upstream_unavailable', 'upstream_internal', 'upstream_stream_incomplete']);

/** Waits out a retry's backoff, or less when the client leaves: a gone client's slot is freed at once. */
function pause(ms: number, signal: CancelSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export class GenerationRouter {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly breakers: BreakerBoard,
    private readonly retryBudget: RetryBudget,
    private readonly retry: GatewayConfig['resilience']['retry'],
    private readonly chaos?: ChaosMonkey,
  ) {}

  /**
   * Resolves once a route produced its first response and `commit` accepted it. `commit` runs
   * on that route; a retryable error it throws before any byte was sent moves on as above.
   */
  async run<T>(call: GenerateCall, commit: (g: Generation) => Promise<T>): Promise<T> {
    // Each model has its own total deadline (a hang on the primary leaves the fallback its
    // full time); a deadline the client asked for bounds the whole request.
    const requestDeadlineAt = call.requestDeadlineAt ?? Number.POSITIVE_INFINITY;
    const chain = this.chain(call.entry);
    let lastError: GatewayError | undefined;
    let reason: FallbackReason | undefined;
    let previous = call.entry.config.name;
    let attempt = 0;
    let retryAfter = Number.POSITIVE_INFINITY;
    let failedAttempts = 0;

    for (const route of chain) {
      const skip = this.skipReason(route, route === call.entry);
      if (skip) {
        reason ??= skip;
        lastError ??= new GatewayError('model_not_ready', skippedMessage(route.config.name, skip), { retryAfterSeconds: 1 });
        continue;
      }
      if (route !== call.entry) call.observer.fallback(previous, route.config.name, reason ?? 'upstream_error');
      const deadlineAt = Math.min(Date.now() + route.config.deadlines.totalMs, requestDeadlineAt);
      // Retries are charged to the route that retries, so its requests count there too: a
      // fallback taking over a failing primary's traffic gets its share, not the minimum.
      this.retryBudget.recordRequest(route.config.name);
      for (let onRoute = 1; ; onRoute += 1) {
        attempt += 1;
        try {
          const request = this.preflight(route, call, deadlineAt);
          return await this.breakers.run(route.upstream.name, route.tritonModel, async () => {
            const g = await this.start(route, call, request, attempt, reason, deadlineAt);
            const value = await commit(g);
            // Only now has this route served the request: a non-streamed answer can still fail
            // after its first response (cut short, say) and be retried or fall back.
            call.observer.served(route);
            return { value, ended: g.ended };
          });
        } catch (err) {
          if (call.signal.aborted) throw abortedError(call.signal);
          if (err instanceof BreakerOpenError) {
            call.observer.event('breaker_rejected', { target: err.target, model: err.model });
            retryAfter = Math.min(retryAfter, err.retryAfterSeconds ?? 1);
            lastError ??= err;
            reason = 'breaker_open';
            break;
          }
          const gErr = toGatewayError(err);
          if (!gErr.retryable) throw gErr;
          // The client's deadline bounded this attempt and ran out: no route has time left, and
          // the client's answer is its timeout (504), not "no upstream could serve" (503).
          if (gErr.code === 'upstream_timeout' && deadlineAt === requestDeadlineAt) throw gErr;
          failedAttempts += 1;
          lastError = gErr;
          reason = gErr.code === 'upstream_ttft_timeout' ? 'ttft_timeout' : 'upstream_error';
          const retry = await this.mayRetry(call, route, gErr, onRoute, deadlineAt);
          // The client left during the backoff: its answer is its cancellation, not the failure
          // that led to the retry (which would count against Triton and start a fallback).
          if (call.signal.aborted) throw abortedError(call.signal);
          if (!retry) break;
          call.observer.retry(route.config.name, gErr.code);
        }
      }
      previous = route.config.name;
    }

    // One route that failed on its own terms: its error says the most (e.g. 504 for a hang).
    if (chain.length === 1 && failedAttempts > 0 && lastError) throw lastError;
    const noUpstream = `No upstream could serve '${call.entry.config.name}'`;
    throw new GatewayError('all_upstreams_unavailable', lastError ? `${noUpstream}: ${lastError.message}` : noUpstream, {
      retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : 1,
      publicMessage: lastError ? `${noUpstream}: ${lastError.clientMessage}` : noUpstream,
      cause: lastError,
    });
  }

  private async mayRetry(call: GenerateCall, route: ModelEntry, err: GatewayError, onRoute: number, deadlineAt: number): Promise<boolean> {
    if (onRoute >= this.retry.maxAttempts || !retryOnSameRoute.has(err.code)) return false;
    // Full jitter: concurrent retries against one Triton do not arrive in lockstep.
    const delay = Math.random() * Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (onRoute - 1));
    if (Date.now() + delay >= deadlineAt) return false;
    if (!this.retryBudget.tryAcquire(route.config.name)) {
      call.observer.retryBudgetExhausted();
      return false;
    }
    await pause(delay, call.signal);
    return !call.signal.aborted;
  }

  private chain(entry: ModelEntry): ModelEntry[] {
    const out = [entry];
    for (const name of entry.config.fallbacks) {
      const fb = this.registry.get(name);
      if (fb && !out.includes(fb)) out.push(fb);
    }
    return out;
  }

  private skipReason(route: ModelEntry, isPrimary: boolean): FallbackReason | undefined {
    if (route.disabled) return 'disabled';
    if (isPrimary && route.forceFallback) return 'forced';
    if (route.state !== 'ready' || !route.schema || this.registry.isTargetRefusing(route.upstream.name)) return 'not_ready';
    return undefined;
  }

  /**
   * What can refuse an attempt without asking Triton: the client gone, the deadline spent, the
   * route unable to take the request (chat: no template). Checked before the breaker, because
   * opossum counts a filtered error as a success: one of these in half-open state closed the
   * breaker with Triton still down.
   */
  private preflight(route: ModelEntry, call: GenerateCall, deadlineAt: number): GenerationRequest {
    if (call.signal.aborted) throw abortedError(call.signal);
    if (deadlineAt <= Date.now()) throw deadlinePassed();
    const request = call.requestFor ? call.requestFor(route) : call.request;
    return route === call.entry ? request : withinOwnLimit(route, request, call.observer);
  }

  private async start(route: ModelEntry, call: GenerateCall, request: GenerationRequest, attempt: number, reason: FallbackReason | undefined, deadlineAt: number): Promise<Generation> {
    if (this.chaos) await this.chaos.beforeAttempt(call.endpoint ?? '', route.config.name);
    if (call.signal.aborted) throw abortedError(call.signal);
    const remaining = deadlineAt - Date.now();
    if (remaining <= 0) throw deadlinePassed();
    const deadlines = route.config.deadlines;
    // A model without decoupled mode answers a stream in one response, the whole answer, which
    // gets the whole deadline.
    const stream = tritonStreams(route.schema!, request.stream);
    // Non-streamed answers arrive in one response at the end, so only the total deadline applies.
    const firstMs = stream ? Math.min(deadlines.ttftMs, remaining) : remaining;
    const idleMs = stream ? deadlines.idleMs : remaining;

    const attemptObs = call.observer.attemptStarted({ target: route.upstream.name, tritonModel: route.tritonModel, servedModel: route.config.name, attempt });
    const upstreamAttempt = new Attempt(call.signal, attemptObs, { firstMs, idleMs, firstIsTtft: stream && firstMs < remaining, clientDeadline: deadlineAt === call.requestDeadlineAt });
    const upstream = route.upstream.infer(route.schema!, request, {
      deadline: deadlineAt,
      signal: upstreamAttempt.controller.signal,
      metadata: attemptObs.metadata ? { ...call.metadata, ...attemptObs.metadata } : call.metadata,
      version: route.servedVersion || undefined,
      multiplex: route.config.multiplex && !request.stream,
    });
    await upstreamAttempt.first(upstream);
    return { servedModel: route.config.name, fallbackReason: route === call.entry ? undefined : reason, deltas: upstreamAttempt.relay(), ended: upstreamAttempt.ended, deadlineAt };
  }
}

/**
 * A fallback holds a request to its own max_tokens limit, as the route held it to the primary's
 * (governMaxTokens): clamped, or, when the fallback rejects overruns (or the request's min_tokens
 * is above its limit), passed over. It got the primary's max_tokens unchecked.
 */
function withinOwnLimit(route: ModelEntry, request: GenerationRequest, observer: InferenceObserver): GenerationRequest {
  const limit = route.config.maxTokens;
  if (request.maxTokens <= limit) return request;
  if (route.config.tokenBudgetAction === 'reject' || (request.minTokens ?? 0) > limit) {
    throw new GatewayError('model_not_ready', `The fallback '${route.config.name}' cannot serve this request: max_tokens ${request.maxTokens} is over its limit of ${limit}`);
  }
  observer.tokenBudgetOverrun();
  return { ...request, maxTokens: limit };
}

/** Why a route was passed over, in the words a client reads in the final error. */
function skippedMessage(model: string, reason: FallbackReason): string {
  if (reason === 'disabled') return `The model '${model}' is disabled by an operator`;
  if (reason === 'forced') return `The model '${model}' is set to send its traffic to its fallbacks`;
  return `The model '${model}' is not ready`;
}

function deadlinePassed(): GatewayError {
  return new GatewayError('upstream_timeout', 'The request deadline passed before Triton answered', { upstreamFault: false });
}
