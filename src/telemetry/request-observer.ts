/**
 * Everything one inference request reports, in one place (after fastify's log-controller): the
 * core calls the InferenceObserver methods, the HTTP layer calls chunkSent()/finish(), and this
 * class turns them into metrics, span events and the single "request completed" log line.
 */
import { SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { GatewayError } from '../errors.js';
import { engineManifest, schemaVersions } from '../governance/engine-identity.js';
import type { EngineManifest, SchemaVersions } from '../governance/events.js';
import { costUsd } from '../inference/completion-accumulator.js';
import type { ModelEntry } from '../inference/model-registry.js';
import type { AttemptInfo, AttemptObserver, FallbackReason, InferenceObserver, Usage } from '../inference/observer.js';
import { tritonStreams, type PerfMetrics } from '../triton/types.js';
import { completionLineWriter } from './logger.js';
import type { Metrics } from './metrics.js';

const tracer = trace.getTracer('triton-gateway');

/** The trace ids of a request's span, for its log lines (empty when tracing is off). */
export interface TraceLogFields {
  readonly trace_id?: string;
  readonly span_id?: string;
}

/** What one finished inference request amounts to, for in-process consumers (anomaly detection, governance). */
export interface CompletionSummary {
  requestId: string;
  model: string;
  servedModel: string;
  operation: 'text_completion' | 'chat';
  stream: boolean;
  status: number;
  durationMs: number;
  queueDelayUs: number | undefined;
  costUsd: number | undefined;
  usage: Usage | undefined;
  errorCode: string | undefined;
}

export type CompletionListener = (summary: CompletionSummary) => void;

export type StreamAbortPhase = 'before_first_byte' | 'mid_stream' | 'client_disconnect';

export class RequestObserver implements InferenceObserver {
  readonly startedAt = performance.now();
  private upstreamMs = 0;
  /** Whether any attempt reached Triton: only those requests have an inference duration. */
  private reachedTriton = false;
  /** The first Triton response of the last attempt that got one: a non-streamed request's first token. */
  private firstResponseAt: number | undefined;
  private firstChunkAt: number | undefined;
  private lastChunkAt: number | undefined;
  private chunks = 0;
  /** The model of the last Triton attempt: for a request no model answered, the one whose failure ended it. */
  private lastAttemptModel: string | undefined;
  /** The route that answered: its engine is the one the completion line names. */
  private servedEntry: ModelEntry | undefined;
  private fallbackReason: FallbackReason | undefined;
  private usageValue: Usage | undefined;
  private perfValue: PerfMetrics | undefined;
  private tokenBudgetOverrunFlag = false;
  private errorCode: string | undefined;
  /** A server-side failure's own text (Triton's words): for on-call, never in the client's answer. */
  private errorMessage: string | undefined;
  private warning: string | undefined;
  private streamAbort: StreamAbortPhase | undefined;
  private finished = false;
  /** Completion tokens relayed so far (for /debug/active-requests). */
  tokensSoFar = 0;
  /** The prompt's length in characters (for /debug/active-requests: long prompts hold the most KV cache). */
  promptChars: number | undefined;

  constructor(
    readonly requestId: string,
    readonly endpoint: string,
    readonly operation: 'text_completion' | 'chat',
    readonly entry: ModelEntry,
    readonly stream: boolean,
    private readonly metrics: Metrics,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
    readonly span: Span,
    private readonly listeners: readonly CompletionListener[] = [],
    /** Added to each line this observer logs (trace ids): cheaper than a pino child per request. */
    readonly logFields: TraceLogFields = {},
  ) {}

  get model(): string {
    return this.entry.config.name;
  }

  get servedModelName(): string | undefined {
    return this.servedEntry?.config.name;
  }

  get errorCodeValue(): string | undefined {
    return this.errorCode;
  }

  get ageMs(): number {
    return performance.now() - this.startedAt;
  }

  /** How long a stream has waited since its last token (null before its first): a stalled stream stands out. */
  get msSinceLastToken(): number | null {
    return this.lastChunkAt === undefined ? null : performance.now() - this.lastChunkAt;
  }

  // ---- InferenceObserver (called by the core) ----

  attemptStarted(info: AttemptInfo): AttemptObserver {
    const started = performance.now();
    this.reachedTriton = true;
    this.lastAttemptModel = info.servedModel;
    const parent = trace.setSpan(context.active(), this.span);
    const span = tracer.startSpan(
      `triton.infer ${info.tritonModel}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': this.operation,
          'gen_ai.request.model': this.model,
          'gen_ai.response.model': info.servedModel,
          'triton.target': info.target,
          'triton.model': info.tritonModel,
          'triton.attempt': info.attempt,
        },
      },
      parent,
    );
    let done = false;
    let metadata: Record<string, string> | undefined;
    if (span.isRecording()) {
      metadata = {};
      propagation.inject(trace.setSpan(parent, span), metadata);
    }
    return {
      metadata,
      firstResponse: () => {
        this.firstResponseAt = performance.now();
        span.addEvent('first_response');
      },
      end: (error?: GatewayError) => {
        if (done) return;
        done = true;
        this.upstreamMs += performance.now() - started;
        if (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
          span.setAttribute('error.type', error.code);
          if (error.upstreamFault) this.metrics.upstreamErrors.inc({ model_name: this.model, served_model: info.servedModel, error_code: error.code });
        }
        span.end();
      },
    };
  }

  /** The context in which the Triton call runs, so its traceparent names the attempt's parent. */
  traceContext(): Context {
    return trace.setSpan(context.active(), this.span);
  }

  fallback(from: string, to: string, reason: FallbackReason): void {
    this.fallbackReason = reason;
    // Counted in served(), once a fallback has answered: a fallback that fails too served nothing.
    this.span.addEvent('fallback', { from, to, reason });
    this.log.warn({ ...this.logFields, model: from, served_model: to, reason }, 'falling back');
  }

  retry(servedModel: string, reason: string): void {
    this.metrics.retries.inc({ model_name: this.model, reason });
    this.span.addEvent('retry', { served_model: servedModel, reason });
  }

  retryBudgetExhausted(): void {
    this.metrics.retryBudgetExhausted.inc({ model_name: this.model });
    this.span.addEvent('retry_budget_exhausted');
  }

  /**
   * The answer is an earlier one of `route`'s, from the response cache: the line and the metrics
   * name the model that gave it (and its engine), not the last one that just failed.
   */
  servedFromCache(route: ModelEntry | undefined): void {
    if (route !== undefined) this.servedEntry = route;
  }

  served(route: ModelEntry): void {
    this.servedEntry = route;
    if (route !== this.entry && this.fallbackReason !== undefined) {
      this.metrics.fallbacks.inc({ model_name: this.model, served_model: route.config.name, reason: this.fallbackReason });
    }
  }

  perf(perf: PerfMetrics): void {
    this.perfValue = perf;
  }

  usage(usage: Usage): void {
    this.usageValue = usage;
  }

  tokenBudgetOverrun(): void {
    this.tokenBudgetOverrunFlag = true;
    this.metrics.tokenBudgetOverruns.inc({ model_name: this.model });
  }

  event(name: string, attributes?: Record<string, string | number | boolean>): void {
    this.span.addEvent(name, attributes);
  }

  // ---- HTTP layer ----

  chunkSent(tokens: number): void {
    const now = performance.now();
    this.tokensSoFar += tokens;
    if (this.firstChunkAt === undefined) {
      this.firstChunkAt = now;
      // The gateway's own TTFT is the wait the user saw, whatever came after; the GenAI metric
      // counts successful responses only (its convention) and is observed in finish().
      // A model without decoupled mode answered the stream in one response: its first chunk is the
      // whole answer, which the streams-only TTFT SLO must not see.
      const streamed = this.servedEntry?.schema === undefined || tritonStreams(this.servedEntry.schema, this.stream);
      this.metrics.timeToFirstToken.observe({ model_name: this.model, stream: streamed ? 'true' : 'false' }, (now - this.startedAt) / 1000);
      this.span.addEvent('first_chunk');
    } else if (this.lastChunkAt !== undefined) {
      this.metrics.interTokenLatency.observe({ model_name: this.model }, (now - this.lastChunkAt) / 1000);
    }
    this.lastChunkAt = now;
    this.chunks += 1;
  }

  streamAborted(phase: StreamAbortPhase, error: GatewayError | undefined): void {
    this.streamAbort = phase;
    if (error) this.noteError(error);
    this.metrics.streamsAborted.inc({ model_name: this.model, phase });
    this.span.addEvent('stream_aborted', { phase, ...(error ? { 'error.type': error.code } : {}) });
  }

  failed(error: GatewayError): void {
    this.noteError(error);
  }

  private noteError(error: GatewayError): void {
    this.errorCode = error.code;
    // A 4xx is the client's business (its text may quote the request back); a 5xx's text is what
    // on-call has where the client was told only "Triton failed" (a stream's error event among them).
    this.errorMessage = error.status >= 500 ? error.message : undefined;
  }

  warn(message: string): void {
    this.warning = message;
  }

  /**
   * Called once, by the observability plugin, when the response finished or the client left
   * (499): metrics, the completion log line, the span end.
   */
  finish(status: number): void {
    if (this.finished) return;
    this.finished = true;
    const totalMs = performance.now() - this.startedAt;
    const model = this.model;
    // A request that failed names the model whose attempt failed last (after a fallback, not the
    // model the client asked for, whose breaker may have kept it from being called at all).
    const served = this.servedEntry?.config.name ?? this.lastAttemptModel ?? model;
    const m = this.metrics;
    const usage = this.usageValue;
    // What the answer cost is the price of the model that gave it (a fallback's, when one
    // served); the per-request budget it is held to is the public model's the client asked for.
    const answered = this.servedEntry ?? this.entry;
    const cost = usage ? costUsd(usage, answered.config.pricing) : undefined;

    // Shed, refused and breaker-rejected requests spent no time in Triton: a 0 s sample would
    // drag the p95 down exactly under load and inflate the per-request ratios' denominator.
    if (this.reachedTriton) m.modelInferenceDuration.observe({ model_name: model }, this.upstreamMs / 1000);
    m.gatewayOverhead.observe({ endpoint: this.endpoint }, Math.max(0, totalMs - this.upstreamMs) / 1000);
    // A stream's first token is its first content byte (chunkSent); a non-streamed request has
    // none before its body, so its first token is the answering attempt's first Triton response.
    const firstTokenAt = this.stream ? this.firstChunkAt : this.firstResponseAt;
    const succeeded = this.errorCode === undefined;
    if (firstTokenAt !== undefined) {
      const ttft = (firstTokenAt - this.startedAt) / 1000;
      if (!this.stream) m.timeToFirstToken.observe({ model_name: model, stream: 'false' }, ttft);
      if (succeeded) m.genAiTimeToFirstToken.observe({ gen_ai_operation_name: this.operation, gen_ai_request_model: model }, ttft);
    }
    // Unconditional, failures included: job_model:admitted_requests:rate5m counts requests from
    // it, and StreamAbortsHigh divides by it, so each stream aborted before its first byte (an
    // open breaker's refusal never reaches Triton) must be in it too, or the ratio tops 100%.
    m.genAiOperationDuration.observe(
      { gen_ai_operation_name: this.operation, gen_ai_request_model: model, gen_ai_response_model: served, error_type: this.errorCode ?? '' },
      totalMs / 1000,
    );
    if (usage) {
      m.tokensGenerated.inc({ model_name: model }, usage.completionTokens);
      m.tokensInput.inc({ model_name: model }, usage.promptTokens);
      m.genAiTokenUsage.observe({ gen_ai_operation_name: this.operation, gen_ai_request_model: model, gen_ai_token_type: 'input' }, usage.promptTokens);
      m.genAiTokenUsage.observe({ gen_ai_operation_name: this.operation, gen_ai_request_model: model, gen_ai_token_type: 'output' }, usage.completionTokens);
      if (succeeded && this.firstChunkAt !== undefined && this.lastChunkAt !== undefined && usage.completionTokens > 1) {
        m.genAiTimePerOutputToken.observe(
          { gen_ai_operation_name: this.operation, gen_ai_request_model: model },
          (this.lastChunkAt - this.firstChunkAt) / 1000 / (usage.completionTokens - 1),
        );
      }
      this.span.setAttribute('gen_ai.usage.input_tokens', usage.promptTokens);
      this.span.setAttribute('gen_ai.usage.output_tokens', usage.completionTokens);
    }
    if (cost !== undefined) {
      m.costUsd.inc({ model_name: model }, cost);
      m.requestCost.observe({ model_name: model }, cost);
    }
    const costOverrun = cost !== undefined && this.entry.config.maxCostUsd !== undefined && cost > this.entry.config.maxCostUsd;
    if (costOverrun) m.costBudgetOverruns.inc({ model_name: model });

    const perf = this.perfValue;
    let queueDelayUs: number | undefined;
    let queueOverrun = false;
    if (perf) {
      if (perf.arrivalTimeNs !== undefined && perf.firstScheduledTimeNs !== undefined) {
        queueDelayUs = Number(perf.firstScheduledTimeNs - perf.arrivalTimeNs) / 1000;
        m.tritonQueueDelay.observe({ model_name: model }, queueDelayUs / 1e6);
        // The queue it waited in is the serving engine's.
        const budget = answered.config.queueDelayBudgetUs;
        if (budget !== undefined && queueDelayUs > budget) {
          queueOverrun = true;
          m.queueDelayBudgetOverruns.inc({ model_name: model });
        }
      }
      if (perf.arrivalTimeNs !== undefined && perf.firstTokenTimeNs !== undefined) {
        m.engineTimeToFirstToken.observe({ model_name: model }, Number(perf.firstTokenTimeNs - perf.arrivalTimeNs) / 1e9);
      }
      if (perf.kvCacheReusedBlocks !== undefined) m.kvCacheReusedBlocks.inc({ model_name: model }, perf.kvCacheReusedBlocks);
      if (perf.kvCacheAllocTotalBlocks !== undefined) m.kvCacheTotalBlocks.inc({ model_name: model }, perf.kvCacheAllocTotalBlocks);
      if (perf.totalDraftTokens !== undefined) m.speculativeDraftTokens.inc({ model_name: model }, perf.totalDraftTokens);
      if (perf.totalAcceptedDraftTokens !== undefined) m.speculativeAcceptedTokens.inc({ model_name: model }, perf.totalAcceptedDraftTokens);
    }

    this.span.setAttribute('gen_ai.response.model', served);
    this.span.setAttribute('http.response.status_code', status);
    if (firstTokenAt !== undefined) this.span.setAttribute('gen_ai.server.time_to_first_token', (firstTokenAt - this.startedAt) / 1000);
    if (this.errorCode) {
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: this.errorCode });
      this.span.setAttribute('error.type', this.errorCode);
    }
    this.span.end();

    // The engine that answered: a fallback's, when one served.
    const engine = engineIdentity(this.servedEntry ?? this.entry);
    const writeLine = completionLineWriter(this.log);
    // A plain literal, no spreads: built from spreads, this object cost ~10 KB more garbage per
    // request and a third of the gateway's promotion to the old generation (GC traces,
    // bench/HISTORY.md, the completion log line as a plain literal). Undefined fields are left out of the line, as pino leaves them out.
    const line = {
      reqId: writeLine ? this.requestId : undefined,
      trace_id: this.logFields.trace_id,
      span_id: this.logFields.span_id,
      model,
      served_model: served,
      stream: this.stream,
      status,
      duration_ms: round(totalMs),
      upstream_ms: round(this.upstreamMs),
      queue_delay_us: queueDelayUs === undefined ? null : round(queueDelayUs),
      tokens_in: usage?.promptTokens ?? null,
      tokens_out: usage?.completionTokens ?? null,
      kv_cache_reuse: perf && perf.kvCacheReusedBlocks !== undefined
        ? { hits: perf.kvCacheReusedBlocks, misses: Math.max(0, (perf.kvCacheAllocTotalBlocks ?? 0) - perf.kvCacheReusedBlocks) }
        : null,
      speculative: perf && perf.totalDraftTokens !== undefined ? { attempts: perf.totalDraftTokens, accepts: perf.totalAcceptedDraftTokens ?? 0 } : null,
      schema_id: engine.schema_id,
      engine_hash: engine.engine_hash,
      quantisation: engine.quantisation,
      engine_manifest: engine.manifest,
      cost_usd: cost ?? null,
      queue_delay_budget_overrun: queueOverrun,
      token_budget_overrun: this.tokenBudgetOverrunFlag,
      cost_budget_overrun: costOverrun,
      fallback_reason: this.fallbackReason ?? null,
      stream_abort: this.streamAbort ?? null,
      error_code: this.errorCode ?? null,
      error_message: this.errorMessage ?? null,
      warning: this.warning ?? null,
    };
    if (writeLine) writeLine(line);
    else this.log.info(line, 'request completed');
    if (this.listeners.length > 0) {
      const summary: CompletionSummary = {
        requestId: this.requestId,
        model,
        servedModel: served,
        operation: this.operation,
        stream: this.stream,
        status,
        durationMs: totalMs,
        queueDelayUs,
        costUsd: cost,
        usage,
        errorCode: this.errorCode,
      };
      // A listener's failure must never break the request path.
      for (const listener of this.listeners) {
        try {
          listener(summary);
        } catch (err) {
          this.log.error({ ...this.logFields, err }, 'completion listener failed');
        }
      }
    }
  }
}

export function startRequestSpan(name: string, parent: Context): Span {
  return tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
}

type EngineFields = Pick<EngineManifest, 'engine_hash' | 'quantisation' | 'manifest'> & Pick<SchemaVersions, 'schema_id'>;

/**
 * The engine and schema a request's line names, read the way governance events read them
 * (engine-identity.ts: the same parameter keys, Triton's before the config's), once per schema
 * Triton reported rather than on every request.
 */
const engines = new WeakMap<object, EngineFields>();
function engineIdentity(entry: ModelEntry): EngineFields {
  const key = entry.schema ?? entry.config;
  let found = engines.get(key);
  if (found === undefined) {
    const m = engineManifest(entry, entry.schema, null);
    found = { engine_hash: m.engine_hash, quantisation: m.quantisation, manifest: m.manifest, schema_id: schemaVersions(entry.schema).schema_id };
    engines.set(key, found);
  }
  return found;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
