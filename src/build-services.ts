/**
 * Builds the objects one gateway is made of (GatewayServices) from its config, and wires
 * their events to metrics and logs. buildApp() then registers the HTTP side around them.
 */
import type { Logger } from 'pino';
import { buildInfo } from './build-info.js';
import type { GatewayConfig } from './config.js';
import { InFlightSet } from './in-flight-table.js';
import { AdmissionController } from './inference/admission.js';
import { BreakerBoard } from './inference/breakers.js';
import { ChaosMonkey } from './inference/chaos.js';
import { GenerationRouter } from './inference/generation.js';
import { ModelRegistry, type RegistryHooks } from './inference/model-registry.js';
import { ResponseCache } from './inference/response-cache.js';
import { RetryBudget } from './inference/retry-budget.js';
import type { Upstream } from './inference/upstream.js';
import type { GatewayServices } from './services.js';
import { AnomalyDetector } from './telemetry/anomaly-detector.js';
import { AnomalyWarnings } from './telemetry/anomaly-warnings.js';
import { initModelSeries, type Metrics } from './telemetry/metrics.js';
import { RecentErrors } from './telemetry/recent-errors.js';
import { RuntimeSampler } from './telemetry/runtime-sampler.js';
import { TritonMetricsPoller } from './telemetry/triton-metrics-poller.js';

export function modelLimits(config: GatewayConfig): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of config.models) if (m.maxInFlight !== undefined) out[m.name] = m.maxInFlight;
  return out;
}

/** `registryHooks` adds hooks of other parts (governance) to the registry's own metric hooks. */
export function buildServices(
  config: GatewayConfig,
  upstreams: Map<string, Upstream>,
  metrics: Metrics,
  logger: Logger,
  registryHooks: Pick<RegistryHooks, 'schemaLoaded' | 'warmupFinished'> = {},
): GatewayServices {
  const registry = new ModelRegistry(config, upstreams, logger, {
    ...registryHooks,
    modelAdded: (entry) => initModelSeries(metrics, entry.config.name),
    targetHealth: (target, up) => metrics.tritonUp.set({ target }, up ? 1 : 0),
    stateChanged: (entry) => metrics.tritonModelReady.set({ model_name: entry.config.name }, entry.state === 'ready' ? 1 : 0),
  });
  const breakers = new BreakerBoard(config.resilience.breaker, {
    // A closed breaker has its series too, so a dashboard or the runbook's query lists every
    // breaker, not only those that have tripped.
    created: (target, model) => metrics.breakerState.set({ target, model }, 0),
    transition: (target, model, to) => {
      metrics.breakerState.set({ target, model }, to === 'closed' ? 0 : to === 'half_open' ? 1 : 2);
      metrics.breakerTransitions.inc({ target, model, to });
      logger[to === 'open' ? 'warn' : 'info']({ target, model, state: to }, 'circuit breaker state changed');
    },
  });
  const chaos = new ChaosMonkey(config.chaos, (mode, endpoint) => metrics.chaosInjections.inc({ mode, endpoint }));
  const retry = config.resilience.retry;
  const router = new GenerationRouter(
    registry,
    breakers,
    new RetryBudget({ ratio: retry.budgetRatio, minPerWindow: retry.budgetMinPerWindow, windowMs: retry.budgetWindowMs }),
    retry,
    chaos,
  );
  const admission = new AdmissionController(
    { maxInFlight: config.admission.maxInFlight, maxQueue: config.admission.maxQueue, queueTimeoutMs: config.admission.queueTimeoutMs, modelMaxInFlight: modelLimits(config) },
    {
      changed: (inFlight, queued) => {
        metrics.activeRequests.set(inFlight);
        metrics.queueDepth.set(queued);
      },
      shed: (reason) => metrics.requestsShed.inc({ reason }),
    },
  );
  const anomalyWarnings = new AnomalyWarnings(config.anomaly.logIntervalMs, (a, suppressed) =>
    logger.warn({ model: a.model, signal: a.signal, value: a.value, mean: a.mean, z_score: a.zScore, suppressed }, 'anomaly detected'),
  );
  const anomalies = new AnomalyDetector(config.anomaly, (a) => {
    metrics.anomalies.inc({ model_name: a.model, signal: a.signal });
    anomalyWarnings.report(a);
  });
  return {
    config,
    metrics,
    registry,
    router,
    breakers,
    admission,
    controls: { maxPromptChars: config.server.maxPromptChars, maxTokensCap: undefined, rateLimitPerMinute: config.rateLimit.perMinute },
    active: new InFlightSet(),
    lifecycle: { draining: false, startedAt: Date.now(), running: new InFlightSet() },
    tritonMetrics: new TritonMetricsPoller(config.triton.targets, config.triton.metricsIntervalMs, metrics, logger, () => new Set(registry.list().map((e) => e.tritonModel))),
    runtime: new RuntimeSampler(),
    recentErrors: new RecentErrors(),
    build: buildInfo(),
    chaos,
    anomalies,
    responseCache: new ResponseCache(config.resilience.cache),
    controlChanges: [],
    completionListeners: [
      (s) => {
        if (s.status >= 400 || s.errorCode) return;
        anomalies.observe(s.model, 'latency', s.durationMs);
        if (s.queueDelayUs !== undefined) anomalies.observe(s.model, 'queue_delay', s.queueDelayUs);
      },
    ],
  };
}
