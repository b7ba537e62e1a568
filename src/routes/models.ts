/**
 * GET /v1/models and GET /v1/models/:id — the public models and whether each takes traffic.
 */
import type { FastifyInstance } from 'fastify';
import type { ModelEntry } from '../inference/model-registry.js';
import { apiKeyGuard } from '../plugins/auth.js';
import type { GatewayServices } from '../services.js';

function modelObject(entry: ModelEntry, created: number) {
  return {
    id: entry.config.name,
    object: 'model' as const,
    created,
    owned_by: 'triton-gateway',
    ready: entry.state === 'ready' && !entry.disabled,
    state: entry.disabled ? 'disabled' : entry.state,
    backend: entry.schema?.flavour ?? null,
    fallbacks: entry.config.fallbacks,
  };
}

export function modelsRoutes(services: GatewayServices) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const created = Math.floor(services.lifecycle.startedAt / 1000);
    const guard = apiKeyGuard(services.config.auth.apiKeys);
    app.get('/v1/models', { onRequest: guard }, async () => ({
      object: 'list',
      data: services.registry.list().map((e) => modelObject(e, created)),
    }));
    app.get<{ Params: { id: string } }>('/v1/models/*', { onRequest: guard }, async (request) => {
      // Model names may contain '/', so the id is the rest of the path.
      const id = (request.params as Record<string, string>)['*'] ?? '';
      return modelObject(services.registry.require(id), created);
    });
  };
}
