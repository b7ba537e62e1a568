/**
 * GET /metrics — Prometheus text format from the app's own registry.
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayServices } from '../services.js';

export function metricsRoutes(services: GatewayServices) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get('/metrics', async (_request, reply) => {
      const body = await services.metrics.registry.metrics();
      return reply.type(services.metrics.registry.contentType).send(body);
    });
  };
}
