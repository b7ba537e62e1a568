/**
 * Every Prometheus metric of the gateway, and the only place one is created. Names and labels
 * are a contract with prometheus/rules, the Grafana dashboard and the runbooks (docs/metrics.md).
 * One registry per app instance, so tests can build several apps in one process. Counters and
 * histograms, updated on every request, are labelled-series.ts's; gauges and Node's default
 * metrics are prom-client's own.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { LabelledCounter, LabelledHistogram } from './labelled-series.js';

// LLM latencies span sub-millisecond gateway overheads to minutes-long streams.
const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const ttftBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 2, 5, 10, 30, 60];
const interTokenBuckets = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.25, 0.5, 1, 2.5];
const overheadBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];
// The serving SLO is 1500 µs of queue delay; buckets are dense around it.
const queueDelayBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0015, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
const tokenBuckets = [1, 4, 16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 131072];
const costBuckets = [0.000001, 0.00001, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 5];

const recording = new Set(['inc', 'dec', 'set', 'observe', 'remove', 'reset']);
const noop = (): void => undefined;

/** Keeps the metric's shape but drops every recording call (metrics switched off). */
function silenced<T extends object>(metric: T): T {
  return new Proxy(metric, { get: (target, prop, receiver) => (typeof prop === 'string' && recording.has(prop) ? noop : Reflect.get(target, prop, receiver)) });
}

export function createMetrics(options: { defaultMetrics?: boolean; enabled?: boolean } = {}) {
  const metrics = defineMetrics(options.enabled === false ? false : options.defaultMetrics !== false);
  if (options.enabled !== false) return metrics;
  // Switched off (for measuring what metrics cost): same objects, no recording, empty /metrics.
  const out = { ...metrics } as Record<string, unknown>;
  for (const [key, value] of Object.entries(metrics)) if (key !== 'registry') out[key] = silenced(value as object);
  return out as typeof metrics;
}

function defineMetrics(defaultMetrics: boolean) {
  const registry = new Registry();
  const r = [registry];
  if (defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    // prom-client names these gauges *_total, which promtool (rightly) rejects for non-counters;
    // the per-type gauges without the suffix (nodejs_active_handles, nodejs_active_resources,
    // nodejs_active_requests) stay and carry the same information.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  }

  return {
    registry,
    httpRequests: new LabelledCounter({ name: 'http_requests_total', help: 'HTTP answers by route template and status', labelNames: ['method', 'endpoint', 'status'] as const, registers: r }),
    requestDuration: new LabelledHistogram({ name: 'request_duration_seconds', help: 'Whole request duration, streams included', labelNames: ['endpoint'] as const, buckets: latencyBuckets, registers: r }),
    modelInferenceDuration: new LabelledHistogram({ name: 'model_inference_duration_seconds', help: 'Time inside Triton calls for one request, all attempts', labelNames: ['model_name'] as const, buckets: latencyBuckets, registers: r }),
    tokensGenerated: new LabelledCounter({ name: 'tokens_generated_total', help: 'Completion tokens', labelNames: ['model_name'] as const, registers: r }),
    gpuUtilization: new Gauge({ name: 'gpu_utilization_percent', help: "GPU utilisation 0-100, from Triton's metrics", labelNames: ['gpu_id'] as const, registers: r }),
    gpuMemoryUsed: new Gauge({ name: 'gpu_memory_used_bytes', help: "GPU memory used, from Triton's metrics", labelNames: ['gpu_id'] as const, registers: r }),
    gpuMemoryTotal: new Gauge({ name: 'gpu_memory_total_bytes', help: "GPU memory total, from Triton's metrics", labelNames: ['gpu_id'] as const, registers: r }),
    activeRequests: new Gauge({ name: 'active_requests', help: 'Inference requests holding an admission slot', registers: r }),
    queueDepth: new Gauge({ name: 'request_queue_depth', help: 'Inference requests waiting for an admission slot', registers: r }),
    errors: new LabelledCounter({ name: 'errors_total', help: 'Failed answers by gateway error code', labelNames: ['error_type', 'endpoint'] as const, registers: r }),

    tokensInput: new LabelledCounter({ name: 'tokens_input_total', help: 'Prompt tokens', labelNames: ['model_name'] as const, registers: r }),
    // stream ("true"/"false"): a non-streamed request's first token is its whole answer, which
    // grows with max_tokens; the TTFT SLO is about streams and must be able to leave it out.
    timeToFirstToken: new LabelledHistogram({ name: 'time_to_first_token_seconds', help: 'Request start to first token', labelNames: ['model_name', 'stream'] as const, buckets: ttftBuckets, registers: r }),
    interTokenLatency: new LabelledHistogram({ name: 'inter_token_latency_seconds', help: 'Gap between streamed chunks', labelNames: ['model_name'] as const, buckets: interTokenBuckets, registers: r }),
    tritonQueueDelay: new LabelledHistogram({ name: 'triton_queue_delay_seconds', help: 'TRT-LLM first_scheduled - arrival', labelNames: ['model_name'] as const, buckets: queueDelayBuckets, registers: r }),
    engineTimeToFirstToken: new LabelledHistogram({ name: 'engine_time_to_first_token_seconds', help: 'TRT-LLM first_token - arrival', labelNames: ['model_name'] as const, buckets: ttftBuckets, registers: r }),
    kvCacheReusedBlocks: new LabelledCounter({ name: 'kv_cache_reused_blocks_total', help: 'TRT-LLM KV-cache blocks reused', labelNames: ['model_name'] as const, registers: r }),
    kvCacheTotalBlocks: new LabelledCounter({ name: 'kv_cache_total_blocks_total', help: 'TRT-LLM KV-cache blocks allocated in total', labelNames: ['model_name'] as const, registers: r }),
    speculativeDraftTokens: new LabelledCounter({ name: 'speculative_draft_tokens_total', help: 'Speculative draft tokens proposed', labelNames: ['model_name'] as const, registers: r }),
    speculativeAcceptedTokens: new LabelledCounter({ name: 'speculative_accepted_tokens_total', help: 'Speculative draft tokens accepted', labelNames: ['model_name'] as const, registers: r }),
    costUsd: new LabelledCounter({ name: 'cost_usd_total', help: 'Cost in USD from the configured pricing', labelNames: ['model_name'] as const, registers: r }),
    requestCost: new LabelledHistogram({ name: 'request_cost_usd', help: 'Cost of one request in USD', labelNames: ['model_name'] as const, buckets: costBuckets, registers: r }),
    tokenBudgetOverruns: new LabelledCounter({ name: 'token_budget_overruns_total', help: 'Requests above the governed max_tokens', labelNames: ['model_name'] as const, registers: r }),
    queueDelayBudgetOverruns: new LabelledCounter({ name: 'queue_delay_budget_overruns_total', help: 'Requests over the queue-delay budget', labelNames: ['model_name'] as const, registers: r }),
    costBudgetOverruns: new LabelledCounter({ name: 'cost_budget_overruns_total', help: "Requests over their model's maxCostUsd", labelNames: ['model_name'] as const, registers: r }),
    gatewayOverhead: new LabelledHistogram({ name: 'gateway_overhead_seconds', help: 'Request duration minus time inside Triton calls', labelNames: ['endpoint'] as const, buckets: overheadBuckets, registers: r }),

    breakerState: new Gauge({ name: 'circuit_breaker_state', help: '0 closed, 1 half-open, 2 open', labelNames: ['target', 'model'] as const, registers: r }),
    breakerTransitions: new LabelledCounter({ name: 'circuit_breaker_transitions_total', help: 'Breaker state changes', labelNames: ['target', 'model', 'to'] as const, registers: r }),
    fallbacks: new LabelledCounter({ name: 'fallbacks_total', help: 'Requests served by a fallback', labelNames: ['model_name', 'served_model', 'reason'] as const, registers: r }),
    retries: new LabelledCounter({ name: 'retries_total', help: 'Retried upstream attempts', labelNames: ['model_name', 'reason'] as const, registers: r }),
    // errors_total counts answers; a failure a retry or a fallback then hid leaves no trace there,
    // and it is what on-call needs to see when a breaker opens while the fallback serves.
    upstreamErrors: new LabelledCounter({
      name: 'upstream_errors_total',
      help: 'Attempts at Triton that failed with an upstream fault, before any retry or fallback',
      labelNames: ['model_name', 'served_model', 'error_code'] as const,
      registers: r,
    }),
    retryBudgetExhausted: new LabelledCounter({ name: 'retry_budget_exhausted_total', help: 'Retries refused by the retry budget', labelNames: ['model_name'] as const, registers: r }),
    streamsAborted: new LabelledCounter({ name: 'streams_aborted_total', help: 'Streams that ended without [DONE]', labelNames: ['model_name', 'phase'] as const, registers: r }),
    requestsShed: new LabelledCounter({ name: 'requests_shed_total', help: 'Requests refused by admission control', labelNames: ['reason'] as const, registers: r }),
    chaosInjections: new LabelledCounter({ name: 'chaos_injections_total', help: 'Chaos faults injected', labelNames: ['mode', 'endpoint'] as const, registers: r }),
    anomalies: new LabelledCounter({ name: 'anomalies_detected_total', help: 'Rolling z-score anomalies', labelNames: ['model_name', 'signal'] as const, registers: r }),

    tritonUp: new Gauge({ name: 'triton_up', help: '1 when the last ServerReady check answered ready', labelNames: ['target'] as const, registers: r }),
    tritonModelReady: new Gauge({ name: 'triton_model_ready', help: '1 when the model is ready and its warm-up passed', labelNames: ['model_name'] as const, registers: r }),
    tritonPendingRequests: new Gauge({ name: 'triton_pending_requests', help: "Triton's nv_inference_pending_request_count", labelNames: ['target', 'model'] as const, registers: r }),
    tritonScrapeErrors: new LabelledCounter({ name: 'triton_metrics_scrape_errors_total', help: "Failed reads of Triton's metrics endpoint", labelNames: ['target'] as const, registers: r }),
    tritonLastScrape: new Gauge({ name: 'triton_metrics_last_success_timestamp_seconds', help: "Unix time of the last good read of Triton's metrics (0: none since start-up)", labelNames: ['target'] as const, registers: r }),

    // error_type: the GenAI conventions' error.type (the gateway's error code), empty on success,
    // so an outage's fast failures do not read as faster operations.
    genAiOperationDuration: new LabelledHistogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'GenAI operation duration',
      labelNames: ['gen_ai_operation_name', 'gen_ai_request_model', 'gen_ai_response_model', 'error_type'] as const,
      buckets: latencyBuckets,
      registers: r,
    }),
    genAiTokenUsage: new LabelledHistogram({ name: 'gen_ai_client_token_usage', help: 'GenAI tokens per operation', labelNames: ['gen_ai_operation_name', 'gen_ai_request_model', 'gen_ai_token_type'] as const, buckets: tokenBuckets, registers: r }),
    genAiTimeToFirstToken: new LabelledHistogram({ name: 'gen_ai_server_time_to_first_token_seconds', help: 'GenAI time to first token', labelNames: ['gen_ai_operation_name', 'gen_ai_request_model'] as const, buckets: ttftBuckets, registers: r }),
    genAiTimePerOutputToken: new LabelledHistogram({ name: 'gen_ai_server_time_per_output_token_seconds', help: 'GenAI time per output token after the first', labelNames: ['gen_ai_operation_name', 'gen_ai_request_model'] as const, buckets: interTokenBuckets, registers: r }),
  };
}

export type Metrics = ReturnType<typeof defineMetrics>;

/**
 * Creates a model's budget-overrun series at 0 when the gateway learns the model. The alerts
 * take increase() of them, which cannot see a series that first appears at 1: without this the
 * first overrun per model per process would never alert.
 */
export function initModelSeries(metrics: Metrics, model: string): void {
  metrics.tokenBudgetOverruns.inc({ model_name: model }, 0);
  metrics.costBudgetOverruns.inc({ model_name: model }, 0);
}
