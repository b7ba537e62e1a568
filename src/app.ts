/**
 * buildApp(config, deps?) assembles one gateway: services first, then fastify plugins in a
 * fixed order (the order is the request flow of DESIGN §3). Tests import this; only
 * src/server.ts touches the process.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { DestinationStream, Logger } from 'pino';
import type { GatewayConfig } from './config.js';
import type { Upstream } from './inference/upstream.js';
import errorHandler, { clientErrorResponder, frameworkErrorSender } from './plugins/error-handler.js';
import loadProtection from './plugins/load-protection.js';
import observability from './plugins/observability.js';
import queuedResponseClose from './plugins/queued-response-close.js';
import { adminControlsRoutes } from './routes/admin-controls.js';
import { adminEventsRoutes } from './routes/admin-events.js';
import { adminModelsRoutes } from './routes/admin-models.js';
import { Governance } from './governance/governance.js';
import { chatCompletionsRoutes } from './routes/chat-completions.js';
import { completionsRoutes } from './routes/completions.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelsRoutes } from './routes/models.js';
import { buildServices } from './build-services.js';
import type { GatewayServices } from './services.js';
import { createLogger, requestChildLogger } from './telemetry/logger.js';
import { createMetrics } from './telemetry/metrics.js';
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
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics, enabled: config.metrics.enabled });
  const upstreams = deps.upstreams ?? new Map([...createTritonClients(config)].map(([name, client]) => [name, tritonUpstream(client)]));
  const governance = await Governance.create(config, logger);
  const services = buildServices(config, upstreams, metrics, logger, governance.registryHooks());
  services.completionListeners.push(governance.completionListener());
  const { registry, breakers } = services;

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.server.bodyLimitBytes,
    // Fastify's default is 0, which turns off Node's own limit: a client sending its body a byte
    // at a time would hold a socket and a body buffer for ever, before any auth check ran. Node
    // looks for such requests every connectionsCheckingInterval (30 s by default), so a short
    // timeout needs a shorter interval to mean anything.
    requestTimeout: config.server.requestTimeoutMs,
    http: {
      connectionsCheckingInterval: Math.min(1000, config.server.requestTimeoutMs),
      headersTimeout: Math.min(60_000, config.server.requestTimeoutMs),
    },
    genReqId: requestId,
    // The request observer writes one line per inference request; fastify's own per-request
    // lines would double every log without adding a field.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log without pino's redaction pass over the request id (telemetry/logger.ts).
    childLoggerFactory: (logger, bindings, options) => requestChildLogger(logger as Logger, bindings, options),
    // Our drain answers 503 in the OpenAI envelope itself (plugins/... and routes check lifecycle).
    return503OnClosing: false,
    // close() drops every connection still open, not only idle ones: by then the shutdown has
    // ended the requests on them (src/shutdown.ts), and one left open would hold the process.
    forceCloseConnections: true,
    // Errors found before routing, and requests Node's HTTP parser refused, still get the
    // envelope, a request id and their count (plugins/error-handler.ts).
    frameworkErrors: frameworkErrorSender(metrics),
    clientErrorHandler: clientErrorResponder(metrics),
  });
  app.decorate('services', services);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is a 415, not a confusing validation error.
  app.removeContentTypeParser('text/plain');

  // 1. errors become OpenAI envelopes; 2. request ids + metrics + completion log line.
  await app.register(errorHandler);
  await app.register(observability, { metrics, recentErrors: services.recentErrors });
  // A response pipelined behind another still learns that its client left.
  await app.register(queuedResponseClose);
  // 3. load shedding and rate limits (inference routes only).
  await app.register(loadProtection, { services });
  // 4. routes (auth and admission run inside them, in that order).
  await app.register(healthRoutes(services));
  await app.register(metricsRoutes(services));
  await app.register(modelsRoutes(services));
  await app.register(completionsRoutes(services));
  await app.register(chatCompletionsRoutes(services));
  await app.register(debugRoutes(services));
  await app.register(adminControlsRoutes(services));
  await app.register(adminModelsRoutes(services, governance));
  await app.register(adminEventsRoutes(services, governance));

  app.addHook('onReady', async () => {
    registry.start();
    governance.start(registry);
    services.tritonMetrics.start();
    services.runtime.start();
  });
  app.addHook('onClose', async () => {
    registry.stop();
    breakers.shutdown();
    services.tritonMetrics.stop();
    services.runtime.stop();
    for (const u of upstreams.values()) u.close();
    await governance.close();
  });
  return app as unknown as FastifyInstance;
}
