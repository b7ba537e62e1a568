/**
 * The objects one gateway instance is made of, built once by buildApp() and handed to the
 * route plugins. Tests build several apps in one process, so nothing here is a module global.
 */
import type { Cancellation } from './cancellation.js';
import type { GatewayConfig } from './config.js';
import type { InFlightSet } from './in-flight-table.js';
import type { AdmissionController } from './inference/admission.js';
import type { BreakerBoard } from './inference/breakers.js';
import type { GenerationRouter } from './inference/generation.js';
import type { ModelRegistry } from './inference/model-registry.js';
import type { Metrics } from './telemetry/metrics.js';
import type { RecentErrors } from './telemetry/recent-errors.js';
import type { RuntimeSampler } from './telemetry/runtime-sampler.js';
import type { TritonMetricsPoller } from './telemetry/triton-metrics-poller.js';
import type { CompletionListener, RequestObserver } from './telemetry/request-observer.js';
import type { AnomalyDetector } from './telemetry/anomaly-detector.js';
import type { ChaosMonkey } from './inference/chaos.js';
import type { ResponseCache } from './inference/response-cache.js';

/** Limits the emergency admin API may change at run time. */
export interface RuntimeControls {
  maxPromptChars: number;
  /** A cap on max_tokens across all models, below each model's own maximum. */
  maxTokensCap: number | undefined;
  /** Requests per minute per API key (or client IP); undefined = no rate limit. */
  rateLimitPerMinute: number | undefined;
}

export interface ControlChange {
  at: string;
  actor: string;
  action: string;
  before: unknown;
  after: unknown;
}

export interface GatewayServices {
  config: GatewayConfig;
  metrics: Metrics;
  registry: ModelRegistry;
  router: GenerationRouter;
  breakers: BreakerBoard;
  admission: AdmissionController;
  controls: RuntimeControls;
  /** In-flight inference requests, for /debug/active-requests and the drain (not a Set: src/in-flight-table.ts). */
  active: InFlightSet<RequestObserver>;
  lifecycle: {
    draining: boolean;
    startedAt: number;
    /** Each inference request's cancel switch, from admission until its connection closes: the drain's deadline pulls them (src/shutdown.ts). */
    running: InFlightSet<Cancellation>;
  };
  tritonMetrics: TritonMetricsPoller;
  runtime: RuntimeSampler;
  recentErrors: RecentErrors;
  build: { version: string; commit: string | null };
  chaos: ChaosMonkey;
  anomalies: AnomalyDetector;
  responseCache: ResponseCache;
  /** The emergency-control audit trail (newest last), shown in diagnostics. */
  controlChanges: ControlChange[];
  /** Called with every finished inference request (anomaly detection, governance). */
  completionListeners: CompletionListener[];
}
