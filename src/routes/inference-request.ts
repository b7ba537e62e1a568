/**
 * The steps every inference route shares before and after the model call: resolving the
 * public model, governing max_tokens, taking an admission slot, wiring the client-disconnect
 * signal and the request observer, and relaying a generation as SSE or as one JSON body.
 */
import { randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Cancellation, type CancelSignal } from '../cancellation.js';
import { abortedError, GatewayError, isGatewayError } from '../errors.js';
import { engineManifest } from '../governance/engine-identity.js';
import { CompletionAccumulator } from '../inference/completion-accumulator.js';
import type { Generation } from '../inference/generation.js';
import type { ModelEntry } from '../inference/model-registry.js';
import type { GatewayServices } from '../services.js';
import { RequestObserver, startRequestSpan, type TraceLogFields } from '../telemetry/request-observer.js';
import type { FinishReason, GenerationDelta, GenerationRequest } from '../triton/types.js';
import { sseDone, sseError, sseHeaders } from './sse.js';
import { SseFrameWriter } from './sse-writer.js';

declare module 'fastify' {
  interface FastifyRequest {
    observer: RequestObserver | undefined;
  }
}

export function resolveModel(services: GatewayServices, name: string): ModelEntry {
  return services.registry.require(name);
}

/**
 * Applies the model's default and its governed maximum (clamp or reject, as configured). Only a
 * max_tokens the client sent can overrun: a default above an admin maxTokensCap is the operator's
 * choice, so it is lowered silently rather than flagged or refused as the client's fault.
 */
export function governMaxTokens(
  services: GatewayServices,
  entry: ModelEntry,
  requested: number | null | undefined,
  minTokens: number | null | undefined,
  observer: RequestObserver,
  /** The field the client set it with (chat: max_completion_tokens or max_tokens), for messages. */
  field = 'max_tokens',
): number {
  const maxTokens = governedMaxTokens(services, entry, requested, observer, field);
  // vLLM refuses this as a stream error the gateway could only call an upstream fault; it is the client's.
  if (minTokens != null && minTokens > maxTokens) {
    const limit = requested == null ? `the default max_tokens of ${maxTokens}` : maxTokens === requested ? `${field} (${maxTokens})` : `the ${field} limit of ${maxTokens}`;
    throw new GatewayError('invalid_request', `min_tokens ${minTokens} is more than ${limit}`, { param: 'min_tokens' });
  }
  return maxTokens;
}

function governedMaxTokens(services: GatewayServices, entry: ModelEntry, requested: number | null | undefined, observer: RequestObserver, field: string): number {
  const cfg = entry.config;
  const cap = Math.min(cfg.maxTokens, services.controls.maxTokensCap ?? Number.POSITIVE_INFINITY);
  if (requested === null || requested === undefined) return Math.min(cfg.defaultMaxTokens, cap);
  if (requested <= cap) return requested;
  observer.tokenBudgetOverrun();
  if (cfg.tokenBudgetAction === 'reject') {
    throw new GatewayError('invalid_request', `${field} ${requested} exceeds the limit of ${cap} for '${cfg.name}'`, { param: field });
  }
  observer.warn(`${field} clamped from ${requested} to ${cap}`);
  return cap;
}

/** `prompt`: the prompt, or its length in characters. */
export function checkPromptLength(services: GatewayServices, prompt: string | number, param: string): void {
  const length = typeof prompt === 'number' ? prompt : prompt.length;
  if (length > services.controls.maxPromptChars) {
    throw new GatewayError('invalid_request', `The prompt is ${length} characters; the limit is ${services.controls.maxPromptChars}`, { param });
  }
}

/**
 * The client's deadline from `x-request-timeout-ms` (bounded by config) as an absolute time (ms
 * since the epoch), or undefined. Taken when the handler starts, so the admission queue's wait
 * counts against it too.
 */
export function requestedDeadline(request: FastifyRequest, entry: ModelEntry): number | undefined {
  const raw = request.headers['x-request-timeout-ms'];
  if (raw === undefined) return undefined;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new GatewayError('invalid_request', 'x-request-timeout-ms must be a positive number of milliseconds', { param: 'x-request-timeout-ms' });
  }
  return Date.now() + Math.max(entry.config.deadlines.minRequestedMs, Math.min(ms, entry.config.deadlines.totalMs));
}

export interface InferenceContext {
  observer: RequestObserver;
  signal: CancelSignal;
  release: () => void;
}

/**
 * Starts the observer and span, takes an admission slot (waiting no longer than the client's
 * deadline, `deadlineAt`), and links the client-disconnect signal.
 */
export async function beginInference(
  services: GatewayServices,
  request: FastifyRequest,
  reply: FastifyReply,
  entry: ModelEntry,
  operation: 'text_completion' | 'chat',
  stream: boolean,
  promptChars: number,
  deadlineAt?: number,
): Promise<InferenceContext> {
  if (services.lifecycle.draining) throw new GatewayError('shutting_down', 'The gateway is shutting down', { retryAfterSeconds: 1 });
  const endpoint = request.routeOptions.url ?? 'unmatched';
  const parent = propagation.extract(context.active(), request.headers);
  const span = startRequestSpan(`${request.method} ${endpoint}`, parent);
  // The HTTP conventions' required server-span attributes, so a trace backend can group by route.
  span.setAttribute('http.request.method', request.method);
  span.setAttribute('http.route', endpoint);
  span.setAttribute('url.scheme', request.protocol);
  span.setAttribute('gen_ai.operation.name', operation);
  span.setAttribute('gen_ai.request.model', entry.config.name);
  span.setAttribute('http.request.id', request.id);
  const observer = new RequestObserver(request.id, endpoint, operation, entry, stream, services.metrics, request.log, span, services.completionListeners, traceFields(span));
  observer.promptChars = promptChars;
  request.observer = observer;

  const controller = new Cancellation();
  // The drain's deadline (src/shutdown.ts) aborts it too, with the error the client is told.
  services.lifecycle.running.add(controller);
  reply.raw.on('close', () => {
    services.lifecycle.running.delete(controller);
    if (!reply.raw.writableFinished) controller.abort();
  });

  const admissionStarted = performance.now();
  const release = await services.admission.acquire(entry.config.name, controller.signal, deadlineAt);
  observer.event('admitted', { wait_ms: Math.round(performance.now() - admissionStarted) });
  services.active.add(observer);
  let released = false;
  const releaseOnce = (): void => {
    if (released) return;
    released = true;
    services.active.delete(observer);
    release();
  };
  // The connection closing always frees the slot, even if a stream body was never read.
  reply.raw.once('close', releaseOnce);
  return { observer, signal: controller.signal, release: releaseOnce };
}

function traceFields(span: ReturnType<typeof startRequestSpan>): TraceLogFields {
  const ctx = span.spanContext();
  return trace.isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}

export function newCompletionId(prefix: 'cmpl' | 'chatcmpl'): string {
  return `${prefix}-${randomUUID().replaceAll('-', '')}`;
}

export interface CollectedCompletion {
  text: string;
  finishReason: FinishReason;
  accumulator: CompletionAccumulator;
}

/** Drains a non-streamed generation into its text, usage and finish reason. */
export async function collect(generation: Generation, maxTokens: number, ctx: InferenceContext): Promise<CollectedCompletion> {
  const acc = new CompletionAccumulator(maxTokens);
  for await (const delta of generation.deltas) acc.add(delta);
  const usage = acc.usage();
  if (usage) ctx.observer.usage(usage);
  if (acc.perf) ctx.observer.perf(acc.perf);
  return { text: acc.text, finishReason: acc.finishReason(), accumulator: acc };
}

export function setServedHeaders(reply: FastifyReply, generation: Generation): void {
  reply.header('x-served-model', generation.servedModel);
  if (generation.fallbackReason) reply.header('x-fallback-reason', generation.fallbackReason);
}

export interface StreamRenderer {
  /** The SSE text for one Triton response; `first` is true for the first one. */
  delta(delta: GenerationDelta, first: boolean, finishReason: FinishReason | null): string;
  /** Text after the final content chunk (the usage chunk when asked for). */
  end(acc: CompletionAccumulator): string;
}

/**
 * Relays a started generation as SSE. Failures after the first byte become an `error` event
 * and the stream closes without [DONE]; the partial usage is still recorded.
 *
 * The frames go straight to the socket (reply.hijack(), then SseFrameWriter with backpressure)
 * rather than through a Readable handed to reply.send: at 1,000 open streams the stream
 * machinery between an async generator and the socket (Readable.from, pipe, 'data' events)
 * was a tenth of the gateway's CPU per token and a few promises per token for the GC.
 * onResponse hooks still run (fastify attaches them before the handler), so the completion
 * log line, metrics and span end are unchanged. A hijacked reply skips onSend, so the relay
 * tells the request's accounting itself when it has ended (a client that left is recorded then).
 */
export function relayStream(reply: FastifyReply, generation: Generation, request: GenerationRequest, ctx: InferenceContext, render: StreamRenderer): FastifyReply {
  setServedHeaders(reply, generation);
  reply.headers(sseHeaders);
  reply.hijack();
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
  reply.raw.writeHead(200);
  const accounting = reply.request.accounting;
  void pumpFrames(new SseFrameWriter(reply.raw), generation, request, ctx, render, () => accounting?.settled());
  return reply;
}

async function pumpFrames(
  out: SseFrameWriter,
  generation: Generation,
  request: GenerationRequest,
  ctx: InferenceContext,
  render: StreamRenderer,
  settled: () => void,
): Promise<void> {
  const acc = new CompletionAccumulator(request.maxTokens, { keepText: false });
  const { observer } = ctx;
  let first = true;
  try {
    for await (const delta of generation.deltas) {
      acc.add(delta);
      const finish = delta.final ? acc.finishReason() : null;
      const frame = render.delta(delta, first, finish);
      first = false;
      if (frame.length === 0) continue;
      observer.chunkSent(delta.outputTokens ?? 0);
      const drained = out.write(frame);
      if (drained && !(await drainedBefore(drained, generation.deadlineAt))) {
        // A client that stops reading would hold its admission slot for as long as it kept the
        // connection open: the deadline that bounds Triton's part bounds its part too. Its
        // socket is full, so no error event can reach it: the connection is cut (leaving the
        // loop cancels the Triton call).
        observer.streamAborted('client_disconnect', new GatewayError('request_timeout', 'The client did not read the stream before the request deadline; the stream was cut'));
        out.destroy();
        return;
      }
    }
    out.end(render.end(acc) + sseDone);
  } catch (err) {
    // The drain's deadline aborts with the error the client is to be told; a plain abort is the client gone.
    const aborted = ctx.signal.aborted ? abortedError(ctx.signal) : undefined;
    const error = aborted ?? (isGatewayError(err) ? err : new GatewayError('internal_error', 'Unexpected error while streaming', { cause: err }));
    if (out.closed || aborted?.code === 'client_cancelled') {
      // Cut by the drain, whose event could not reach a client that had stopped reading: the
      // stream ended because the gateway stopped, not because its client left.
      if (aborted?.code === 'shutting_down') observer.streamAborted('mid_stream', aborted);
      else observer.streamAborted('client_disconnect', undefined);
      out.destroy();
      return;
    }
    observer.streamAborted('mid_stream', error);
    out.end(sseError(error));
  } finally {
    const usage = acc.usage();
    if (usage) observer.usage(usage);
    if (acc.perf) observer.perf(acc.perf);
    ctx.release();
    // After the partial usage: a stream its client cut is billed for the tokens it was sent.
    settled();
  }
}

/**
 * Runs an endpoint's inference inside the bookkeeping both endpoints share: a failure is the
 * request's error for its log line and metrics, a server-side one before the first byte of a
 * stream is an aborted stream, and the admission slot is released here unless the relay took the
 * request over (`relaying()`, called just before relayStream), in which case the relay releases it.
 */
export async function runInference<T>(ctx: InferenceContext, stream: boolean, run: (relaying: () => void) => Promise<T>): Promise<T> {
  let relayed = false;
  try {
    return await run(() => {
      relayed = true;
    });
  } catch (err) {
    // Only a server-side failure (5xx, which every upstream fault is) breaks a stream: a 4xx here is
    // the client's request refused (token budget, context length, Triton INVALID_ARGUMENT, a cancel)
    // and must not feed StreamAbortsHigh.
    if (stream && (!isGatewayError(err) || err.status >= 500)) ctx.observer.streamAborted('before_first_byte', isGatewayError(err) ? err : undefined);
    if (isGatewayError(err)) ctx.observer.failed(err);
    throw err;
  } finally {
    if (!relayed) ctx.release();
  }
}

/** Whether a write's drain (or the connection's close) came before the deadline. */
async function drainedBefore(drained: Promise<void>, deadlineAt: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineAt - Date.now()), false)));
  try {
    return await Promise.race([drained.then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The optional degraded mode: a successful deterministic answer is remembered; when the
 * upstreams fail it (after retries and fallbacks), the remembered answer is served with
 * `x-degraded: cached`. Never for a model an operator disabled or forced onto its fallbacks
 * (they chose to refuse its answers), nor an answer from an engine no longer serving.
 */
export async function withResponseCache(
  services: GatewayServices,
  reply: FastifyReply,
  observer: RequestObserver,
  operation: string,
  model: string,
  request: GenerationRequest,
  produce: () => Promise<{ body: unknown; servedModel: string }>,
): Promise<unknown> {
  const cache = services.responseCache;
  const key = cache.key(operation, model, request);
  if (key === undefined) return (await produce()).body;
  try {
    const { body, servedModel } = await produce();
    cache.set(key, body, servedModel, engineOf(services, servedModel));
    return body;
  } catch (err) {
    // Only when upstreams failed (5xx), never for the client's own errors, nor for the gateway
    // stopping (the drain's deadline ends the request with shutting_down, which the client is told).
    const entry = services.registry.get(model);
    const operatorRefused = entry === undefined || entry.disabled || entry.forceFallback;
    const upstreamsFailed = isGatewayError(err) && err.status >= 500 && err.code !== 'shutting_down';
    const hit = upstreamsFailed && !operatorRefused ? cache.get(key) : undefined;
    if (!hit || hit.engine !== engineOf(services, hit.servedModel)) throw err;
    observer.warn('served from the response cache: every upstream unavailable');
    observer.event('degraded_cached');
    observer.servedFromCache(services.registry.get(hit.servedModel));
    reply.header('x-degraded', 'cached');
    reply.header('x-served-model', hit.servedModel);
    return hit.body;
  }
}

/** Which engine a model serves now (version and hash): a cached answer is only as good as it. */
function engineOf(services: GatewayServices, model: string): string {
  const entry = services.registry.get(model);
  if (!entry) return '';
  const engine = engineManifest(entry, entry.schema);
  return `${engine.version ?? ''}|${engine.engine_hash ?? ''}`;
}
