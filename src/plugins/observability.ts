/**
 * Request ids and the per-request HTTP metrics. Every answer is counted by route template
 * (never the raw URL) and status, 5xx included; /metrics does not count itself. Inference
 * requests hand their observer the final status so it can write the completion log line.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from '../telemetry/metrics.js';
import type { RecentErrors } from '../telemetry/recent-errors.js';

async function observabilityPlugin(app: FastifyInstance, opts: { metrics: Metrics; recentErrors: RecentErrors }): Promise<void> {
  const { metrics, recentErrors } = opts;
  app.decorateRequest('observer', undefined);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const endpoint = request.routeOptions.url ?? 'unmatched';
    if (endpoint === '/metrics') return;
    const status = reply.statusCode;
    metrics.httpRequests.inc({ method: request.method, endpoint, status: String(status) });
    metrics.requestDuration.observe({ endpoint }, reply.elapsedTime / 1000);
    const errorCode = request.gatewayError?.code ?? request.observer?.errorCodeValue;
    if (errorCode !== undefined || status >= 400) {
      metrics.errors.inc({ error_type: errorCode ?? `http_${status}`, endpoint });
      if (errorCode !== undefined && endpoint.startsWith('/v1/')) {
        recentErrors.add({ at: new Date().toISOString(), requestId: request.id, model: request.observer?.model ?? null, code: errorCode, status });
      }
    }
    request.observer?.finish(status);
  });
}

export default fp(observabilityPlugin, { name: 'observability' });
