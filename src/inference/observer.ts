/**
 * The lifecycle events of one inference request, as the core reports them. The telemetry
 * layer implements this (log line + metrics + span events in one place); the core only calls it.
 */
import type { GatewayError } from '../errors.js';
import type { PerfMetrics } from '../triton/types.js';
import type { ModelEntry } from './model-registry.js';

export type FallbackReason = 'breaker_open' | 'upstream_error' | 'ttft_timeout' | 'not_ready' | 'disabled' | 'forced';

export interface AttemptInfo {
  target: string;
  tritonModel: string;
  servedModel: string;
  attempt: number;
}

export interface AttemptObserver {
  /** gRPC metadata for this attempt's Triton call (W3C traceparent/tracestate of the attempt span). */
  readonly metadata: Record<string, string> | undefined;
  /** The first Triton response of this attempt arrived. */
  firstResponse(): void;
  /** The attempt ended; `error` when it failed. */
  end(error?: GatewayError): void;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface InferenceObserver {
  attemptStarted(info: AttemptInfo): AttemptObserver;
  fallback(from: string, to: string, reason: FallbackReason): void;
  retry(servedModel: string, reason: string): void;
  retryBudgetExhausted(): void;
  /** The route that answered (the model itself or a fallback), once it has. */
  served(route: ModelEntry): void;
  /** TRT-LLM perf outputs of the final response. */
  perf(perf: PerfMetrics): void;
  usage(usage: Usage): void;
  /** A request above the governed max_tokens was clamped or rejected. */
  tokenBudgetOverrun(): void;
  event(name: string, attributes?: Record<string, string | number | boolean>): void;
}
