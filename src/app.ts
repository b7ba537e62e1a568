/**
 * buildApp(config, deps?) assembles one gateway: services first, then fastify plugins in a
 * fixed order (the order is the request flow of DESIGN §3). Tests import this; only
 * src/server.ts touches the process.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import type { GatewayConfig } from './config.js';
import { AdmissionController } from './inference/admission.js';
import { BreakerBoard } from './inference/breakers.js';
import { GenerationRouter } from './inference/generation.js';
import { RetryBudget } from './inference/retry-budget.js';
import { ModelRegistry } from './inference/model-registry.js';
import type { Upstream } from './inference/upstream.js';
import errorHandler from './plugins/error-handler.js';
import observability from './plugins/observability.js';
import { completionsRoutes } from './routes/completions.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelsRoutes } from './routes/models.js';
import type { GatewayServices } from './services.js';
import { createLogger } from './telemetry/logger.js';
import { createMetrics } from './telemetry/metrics.js';
import { RecentErrors } from './telemetry/recent-errors.js';
import { RuntimeSampler } from './telemetry/runtime-sampler.js';
import { TritonMetricsPoller } from './telemetry/triton-metrics-poller.js';
import { buildInfo } from './build-info.js';
import { debugRoutes } from './routes/debug.js';
import { createTritonClients, tritonUpstream } from './upstreams.js';

export interface AppDeps {
  /** Where logs go (tests pass a sink); stdout by default. */
  logDestination?: DestinationStream;
  /** Upstreams to use instead of gRPC clients built from the config. */
  upstreams?: Map<string, Upstream>;
  /** Set false to leave Node's default process metrics out (benchmarks of many apps). */
  defaultMetrics?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: GatewayServices;
  }
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honours a well-formed incoming x-request-id; anything else gets a fresh one (no log injection). */
function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
}

export async function buildApp(config: GatewayConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const logger = createLogger(config.logging, deps.logDestination);
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics });
  const upstreams = deps.upstreams ?? new Map([...createTritonClients(config)].map(([name, client]) => [name, tritonUpstream(client)]));
  const registry = new ModelRegistry(config, upstreams, logger, {
    targetHealth: (target, up) => metrics.tritonUp.set({ target }, up ? 1 : 0),
    stateChanged: (entry) => metrics.tritonModelReady.set({ model_name: entry.config.name }, entry.state === 'ready' ? 1 : 0),
  });
  const breakers = new BreakerBoard(config.resilience.breaker, {
    transition: (target, model, to) => {
      metrics.breakerState.set({ target, model }, to === 'closed' ? 0 : to === 'half_open' ? 1 : 2);
      metrics.breakerTransitions.inc({ target, model, to });
      logger[to === 'open' ? 'warn' : 'info']({ target, model, state: to }, 'circuit breaker state changed');
    },
  });
  const services: GatewayServices = {
    config,
    metrics,
    registry,
    router: new GenerationRouter(registry, breakers, new RetryBudget({
      ratio: config.resilience.retry.budgetRatio,
      minPerWindow: config.resilience.retry.budgetMinPerWindow,
      windowMs: config.resilience.retry.budgetWindowMs,
    }), config.resilience.retry),
    breakers,
    admission: new AdmissionController(
      { maxInFlight: config.admission.maxInFlight, maxQueue: config.admission.maxQueue, queueTimeoutMs: config.admission.queueTimeoutMs, modelMaxInFlight: modelLimits(config) },
      {
        changed: (inFlight, queued) => {
          metrics.activeRequests.set(inFlight);
          metrics.queueDepth.set(queued);
        },
        shed: (reason) => metrics.requestsShed.inc({ reason }),
      },
    ),
    controls: { maxPromptChars: config.server.maxPromptChars, maxTokensCap: undefined },
    active: new Set(),
    lifecycle: { draining: false, startedAt: Date.now() },
    tritonMetrics: new TritonMetricsPoller(config.triton.targets, config.triton.metricsIntervalMs, metrics, logger, () => new Set(registry.list().map((e) => e.tritonModel))),
    runtime: new RuntimeSampler(),
    recentErrors: new RecentErrors(),
    build: buildInfo(),
  };

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.server.bodyLimitBytes,
    genReqId: requestId,
    // The request observer writes one line per inference request; fastify's own per-request
    // lines would double every log without adding a field.
    logController: new LogController({ disableRequestLogging: true }),
    // Our drain answers 503 in the OpenAI envelope itself (plugins/... and routes check lifecycle).
    return503OnClosing: false,
  });
  app.decorate('services', services);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is a 415, not a confusing validation error.
  app.removeContentTypeParser('text/plain');

  // 1. errors become OpenAI envelopes; 2. request ids + metrics + completion log line.
  await app.register(errorHandler);
  await app.register(observability, { metrics, recentErrors: services.recentErrors });
  // 3. routes (auth and admission run inside them, in that order).
  await app.register(healthRoutes(services));
  await app.register(metricsRoutes(services));
  await app.register(modelsRoutes(services));
  await app.register(completionsRoutes(services));
  await app.register(debugRoutes(services));

  app.addHook('onReady', async () => {
    registry.start();
    services.tritonMetrics.start();
    services.runtime.start();
  });
  app.addHook('onClose', async () => {
    registry.stop();
    breakers.shutdown();
    services.tritonMetrics.stop();
    services.runtime.stop();
    for (const u of upstreams.values()) u.close();
  });
  return app as unknown as FastifyInstance;
}

function modelLimits(config: GatewayConfig): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of config.models) if (m.maxInFlight !== undefined) out[m.name] = m.maxInFlight;
  return out;
}
