/**
 * /livez: the process is alive. /readyz: this replica can take traffic — not draining, a Triton
 * target ready and a model servable (itself or through a fallback); the one a load balancer or
 * Kubernetes readiness probe should use. `degraded` lists what is not fully ready meanwhile.
 * /readyz?strict=1: every target up and every model ready and warmed up, for people and scripts
 * that must know that one model is out (a probe on it would unready every replica at once).
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayServices } from '../services.js';

function wantsStrict(query: unknown): boolean {
  const strict = (query as Record<string, string | undefined> | undefined)?.strict;
  return strict !== undefined && strict !== '0' && strict !== 'false';
}

export function healthRoutes(services: GatewayServices) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get('/livez', async () => ({ status: 'ok' }));
    app.get('/readyz', async (request, reply) => {
      if (services.lifecycle.draining) return reply.code(503).send({ status: 'draining', reasons: ['shutting down'] });
      if (wantsStrict(request.query)) {
        const { ready, reasons } = services.registry.readiness();
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', reasons });
      }
      const { ready, reasons, degraded } = services.registry.podReadiness();
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', reasons, degraded });
    });
  };
}
