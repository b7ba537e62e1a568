/**
 * Engine lifecycle endpoints, behind the admin token (the actor comes from `x-actor`):
 *   POST /admin/models/:name/warmup     run the warm-up again now; 200 when it passed, 503 when not
 *                                       (the model then stays out of traffic)
 *   POST /admin/models/:name/rollback   {"version": "1", "reason"?: "...", "config"?: {...}}: load
 *                                       that Triton version, warm it up, pin traffic to it, record
 *                                       llm_rollback_completed (src/governance/rollback.ts), or
 *                                       llm_rollback_failed when it stopped
 *   GET  /admin/models/:name/engine     the engine identity serving now and the pinned version
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { GatewayError, errorTable, type ErrorCode } from '../errors.js';
import { actorOf } from '../governance/actor.js';
import { engineManifest } from '../governance/engine-identity.js';
import type { Governance } from '../governance/governance.js';
import { RollbackError } from '../governance/rollback.js';
import { adminTokenGuard } from '../plugins/auth.js';
import type { GatewayServices } from '../services.js';

const params = z.object({ name: z.string().min(1) });

const rollbackBody = z
  .object({
    // A version past 2^53 - 1 would reach Triton as 1e+23: refused here, like any non-number.
    version: z
      .union([z.string().regex(/^\d{1,15}$/, 'a version number of at most 15 digits'), z.number().int().positive().max(Number.MAX_SAFE_INTEGER)])
      .transform(String),
    reason: z.string().max(500).optional(),
    /** The model's full ModelConfig as JSON (needed against a real Triton); its version_policy is replaced. */
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export function adminModelsRoutes(services: GatewayServices, governance: Governance) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const guard = adminTokenGuard(services.config.auth.adminToken);

    function entryOf(name: string) {
      return services.registry.require(name, 'name');
    }

    typed.post('/admin/models/:name/warmup', { onRequest: guard, schema: { params } }, async (request) => {
      const entry = entryOf(request.params.name);
      request.log.warn({ audit: true, actor: actorOf(request.headers), model: entry.config.name }, 'warm-up requested');
      const outcome = await services.registry.rewarm(entry.config.name);
      const body = { model: entry.config.name, version: entry.servedVersion || null, state: entry.state, warmup: outcome };
      if (outcome.passed) return body;
      throw new GatewayError('warmup_failed', `The warm-up of '${entry.config.name}' failed: ${outcome.reason ?? 'unknown'}; the model stays out of traffic`, { details: body });
    });

    typed.post('/admin/models/:name/rollback', { onRequest: guard, schema: { params, body: rollbackBody } }, async (request) => {
      const actor = actorOf(request.headers);
      try {
        const event = await governance.rollback({
          model: request.params.name,
          version: request.body.version,
          actor,
          reason: request.body.reason,
          config: request.body.config,
        });
        services.responseCache.clear();
        return { rollback: event };
      } catch (err) {
        if (!(err instanceof RollbackError)) throw err;
        request.log.warn({ audit: true, actor, model: request.params.name, version: request.body.version, stage: err.stage, err: err.message }, 'rollback failed');
        const code = err.answerCode as ErrorCode;
        throw new GatewayError(code in errorTable ? code : 'rollback_failed', err.message, { details: { rollback: { stage: err.stage, serving_version: err.serving } } });
      }
    });

    typed.get('/admin/models/:name/engine', { onRequest: guard, schema: { params } }, async (request) => {
      const entry = entryOf(request.params.name);
      return {
        model: entry.config.name,
        state: entry.state,
        pinned_version: entry.servedVersion || null,
        engine: engineManifest(entry, entry.schema),
        last_warmup: entry.lastWarmup ?? null,
      };
    });
  };
}
