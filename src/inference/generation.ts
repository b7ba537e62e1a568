/**
 * One request's path through the public model's route: the primary, then its fallbacks in
 * order. Before the first byte reaches the client, a retryable failure, a model out of service
 * or a time-to-first-token timeout moves on to the next route; after it, failures surface to the
 * caller (the SSE relay turns them into an in-band error event).
 */
import { GatewayError, isGatewayError } from '../errors.js';
import type { GenerationDelta, GenerationRequest } from '../triton/types.js';
import type { ModelEntry, ModelRegistry } from './model-registry.js';
import type { FallbackReason, InferenceObserver } from './observer.js';
import { Watchdog } from './watchdog.js';

export interface GenerateCall {
  entry: ModelEntry;
  request: GenerationRequest;
  /** Aborted when the client goes away; cancels the Triton call. */
  signal: AbortSignal;
  observer: InferenceObserver;
  /** A shorter total deadline the client asked for (ms), already bounded by config. */
  requestedDeadlineMs?: number;
  /** Extra gRPC metadata (traceparent, tracestate). */
  metadata?: Record<string, string>;
}

export interface Generation {
  servedModel: string;
  fallbackReason: FallbackReason | undefined;
  /** Starts with the first Triton response, already received. */
  deltas: AsyncGenerator<GenerationDelta>;
}

export class GenerationRouter {
  constructor(private readonly registry: ModelRegistry) {}

  /**
   * Resolves once a route produced its first response (the commit point for streams).
   * `commit` runs on that route; if it throws a retryable error before any byte was sent,
   * the next route is tried.
   */
  async run<T>(call: GenerateCall, commit: (g: Generation) => Promise<T>): Promise<T> {
    const chain = this.chain(call.entry);
    let lastError: GatewayError | undefined;
    let pendingReason: FallbackReason | undefined;
    let previous = call.entry.config.name;
    let attempt = 0;
    for (const route of chain) {
      const skip = this.skipReason(route, route === call.entry);
      if (skip) {
        pendingReason ??= skip;
        lastError ??= new GatewayError('model_not_ready', `The model '${route.config.name}' is not ready`);
        continue;
      }
      if (route !== call.entry) call.observer.fallback(previous, route.config.name, pendingReason ?? 'upstream_error');
      attempt += 1;
      try {
        const generation = await this.start(route, call, attempt, pendingReason);
        return await commit(generation);
      } catch (err) {
        const gErr = toGatewayError(err);
        if (call.signal.aborted) throw new GatewayError('client_cancelled', 'The client closed the connection');
        if (!gErr.retryable) throw gErr;
        lastError = gErr;
        pendingReason = gErr.code === 'upstream_ttft_timeout' ? 'ttft_timeout' : 'upstream_error';
        previous = route.config.name;
      }
    }
    if (chain.length > 1 || lastError?.code === 'model_not_ready') {
      throw new GatewayError('all_upstreams_unavailable', `No upstream could serve '${call.entry.config.name}'${lastError ? `: ${lastError.message}` : ''}`, {
        retryAfterSeconds: 1,
        cause: lastError,
      });
    }
    throw lastError ?? new GatewayError('internal_error', 'no route was tried');
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
    if (route.state !== 'ready' || !route.schema) return 'not_ready';
    return undefined;
  }

  private async start(route: ModelEntry, call: GenerateCall, attempt: number, reason: FallbackReason | undefined): Promise<Generation> {
    if (call.signal.aborted) throw new GatewayError('client_cancelled', 'The client closed the connection');
    const deadlines = route.config.deadlines;
    const totalMs = Math.min(deadlines.totalMs, call.requestedDeadlineMs ?? Number.POSITIVE_INFINITY);
    const stream = call.request.stream;
    // Non-streamed answers arrive in one response at the end, so only the total deadline applies.
    const firstMs = stream ? Math.min(deadlines.ttftMs, totalMs) : totalMs;
    const idleMs = stream ? deadlines.idleMs : totalMs;

    const controller = new AbortController();
    const onClientGone = (): void => controller.abort();
    call.signal.addEventListener('abort', onClientGone, { once: true });
    let phase: 'first' | 'next' = 'first';
    let expired: GatewayError | undefined;
    const watchdog = new Watchdog(() => {
      expired =
        phase === 'next'
          ? new GatewayError('upstream_idle_timeout', `No token from Triton for ${idleMs} ms`, { upstreamFault: true })
          : stream
            ? new GatewayError('upstream_ttft_timeout', `No first token from Triton within ${firstMs} ms`, { upstreamFault: true })
            : new GatewayError('upstream_timeout', `Triton did not answer within ${firstMs} ms`, { upstreamFault: true });
      controller.abort();
    });
    const cleanup = (): void => {
      watchdog.clear();
      call.signal.removeEventListener('abort', onClientGone);
    };

    const attemptObs = call.observer.attemptStarted({ target: route.upstream.name, tritonModel: route.tritonModel, servedModel: route.config.name, attempt });
    const upstream = route.upstream.infer(route.schema!, call.request, {
      deadline: Date.now() + totalMs,
      signal: controller.signal,
      metadata: attemptObs.metadata ? { ...call.metadata, ...attemptObs.metadata } : call.metadata,
      version: route.config.version || undefined,
    });

    watchdog.arm(firstMs);
    let first: IteratorResult<GenerationDelta>;
    try {
      first = await upstream.next();
      if (first.done) throw new GatewayError('upstream_bad_response', 'Triton ended the call without a response', { upstreamFault: true });
    } catch (err) {
      cleanup();
      const gErr = expired ?? toGatewayError(err);
      attemptObs.end(gErr);
      throw gErr;
    }
    attemptObs.firstResponse();
    call.observer.served(route.config.name);
    const firstDelta = first.value;

    async function* relay(): AsyncGenerator<GenerationDelta> {
      let failure: GatewayError | undefined;
      try {
        yield firstDelta;
        if (firstDelta.final) return;
        phase = 'next';
        while (true) {
          watchdog.arm(idleMs);
          let next: IteratorResult<GenerationDelta>;
          try {
            next = await upstream.next();
          } catch (err) {
            throw expired ?? toGatewayError(err);
          }
          if (next.done) return;
          yield next.value;
          if (next.value.final) return;
        }
      } catch (err) {
        failure = toGatewayError(err);
        throw failure;
      } finally {
        cleanup();
        // Stops the Triton call when the consumer left early (client gone, mid-stream error).
        if (!controller.signal.aborted) controller.abort();
        await upstream.return(undefined).catch(() => undefined);
        attemptObs.end(failure);
      }
    }
    return { servedModel: route.config.name, fallbackReason: route === call.entry ? undefined : reason, deltas: relay() };
  }
}

export function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  return new GatewayError('internal_error', 'Unexpected error while calling Triton', { cause: err });
}
