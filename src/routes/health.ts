/**
 * /livez: the process is alive. /readyz: Triton reachable, every model ready and warmed up,
 * and not draining — the one a load balancer or Kubernetes readiness probe should use.
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayServices } from '../services.js';

export function healthRoutes(services: GatewayServices) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get('/livez', async () => ({ status: 'ok' }));
    app.get('/readyz', async (_request, reply) => {
      if (services.lifecycle.draining) return reply.code(503).send({ status: 'draining', reasons: ['shutting down'] });
      const { ready, reasons } = services.registry.readiness();
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', reasons });
    });
  };
}
