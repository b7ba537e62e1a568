/**
 * The emergency controls of the runbooks' "reduce load" step, behind the admin token:
 *   GET   /admin/controls                       current limits, and what the config set
 *   PATCH /admin/controls                       change in-flight limits, the rate limit, the
 *                                               prompt-length and max_tokens caps (null clears)
 *   POST  /admin/controls/revert                back to the config's values
 *   POST  /admin/models/:name/disable|enable    take a model out of traffic, or back
 *   POST  /admin/models/:name/force-fallback    {"enabled": true|false}: serve its fallbacks
 *   GET   /admin/chaos, POST /admin/chaos       fault injection settings (see inference/chaos.ts)
 * Every change is an audit log line (with the actor from `x-actor`), kept for diagnostics, and
 * revertible.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { modelLimits } from '../build-services.js';
import { GatewayError } from '../errors.js';
import { MAX_CHAOS_SLOW_MS } from '../inference/chaos.js';
import { adminTokenGuard } from '../plugins/auth.js';
import type { GatewayServices } from '../services.js';

const controlsPatch = z
  .object({
    maxInFlight: z.number().int().positive().optional(),
    modelMaxInFlight: z.record(z.string(), z.number().int().positive().nullable()).optional(),
    rateLimitPerMinute: z.number().int().positive().nullable().optional(),
    maxPromptChars: z.number().int().positive().optional(),
    maxTokensCap: z.number().int().positive().nullable().optional(),
  })
  .strict();

const chaosPatch = z
  .object({
    enabled: z.boolean().optional(),
    rate: z.number().min(0).max(1).optional(),
    modes: z.array(z.enum(['error', 'timeout', 'slow'])).min(1).optional(),
    routes: z.array(z.string()).optional(),
    models: z.array(z.string()).optional(),
    slowMs: z.number().int().positive().max(MAX_CHAOS_SLOW_MS, `at most ${MAX_CHAOS_SLOW_MS} ms`).optional(),
  })
  .strict();

function actor(request: FastifyRequest): string {
  const raw = request.headers['x-actor'];
  return typeof raw === 'string' && /^[\w.@:-]{1,64}$/.test(raw) ? raw : 'admin-token';
}

function snapshot(services: GatewayServices) {
  const limits = services.admission.state.limits;
  return {
    maxInFlight: limits.maxInFlight,
    modelMaxInFlight: limits.modelMaxInFlight,
    rateLimitPerMinute: services.controls.rateLimitPerMinute ?? null,
    maxPromptChars: services.controls.maxPromptChars,
    maxTokensCap: services.controls.maxTokensCap ?? null,
    disabledModels: services.registry.list().filter((e) => e.disabled).map((e) => e.config.name),
    forcedFallbackModels: services.registry.list().filter((e) => e.forceFallback).map((e) => e.config.name),
  };
}

function baseline(services: GatewayServices) {
  const c = services.config;
  return {
    maxInFlight: c.admission.maxInFlight,
    modelMaxInFlight: modelLimits(c),
    rateLimitPerMinute: c.rateLimit.perMinute ?? null,
    maxPromptChars: c.server.maxPromptChars,
    maxTokensCap: null,
    disabledModels: [] as string[],
    forcedFallbackModels: [] as string[],
  };
}

export function adminControlsRoutes(services: GatewayServices) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const guard = adminTokenGuard(services.config.auth.adminToken);

    function record(request: FastifyRequest, action: string, before: unknown, after: unknown): void {
      const change = { at: new Date().toISOString(), actor: actor(request), action, before, after };
      services.controlChanges.push(change);
      if (services.controlChanges.length > 100) services.controlChanges.shift();
      request.log.warn({ audit: true, ...change }, 'emergency control changed');
    }

    function modelEntry(name: string) {
      return services.registry.require(name, 'name');
    }

    typed.get('/admin/controls', { onRequest: guard }, async () => ({
      current: snapshot(services),
      config: baseline(services),
      changes: services.controlChanges.slice(-20),
    }));

    typed.patch('/admin/controls', { onRequest: guard, schema: { body: controlsPatch } }, async (request) => {
      const before = snapshot(services);
      const body = request.body;
      const limits = services.admission.state.limits;
      const modelMax = { ...limits.modelMaxInFlight };
      for (const [model, n] of Object.entries(body.modelMaxInFlight ?? {})) {
        modelEntry(model);
        if (n === null) delete modelMax[model];
        else modelMax[model] = n;
      }
      services.admission.setLimits({ ...limits, maxInFlight: body.maxInFlight ?? limits.maxInFlight, modelMaxInFlight: modelMax });
      if (body.rateLimitPerMinute !== undefined) services.controls.rateLimitPerMinute = body.rateLimitPerMinute ?? undefined;
      if (body.maxPromptChars !== undefined) services.controls.maxPromptChars = body.maxPromptChars;
      if (body.maxTokensCap !== undefined) services.controls.maxTokensCap = body.maxTokensCap ?? undefined;
      const after = snapshot(services);
      record(request, 'update_controls', before, after);
      return { current: after };
    });

    typed.post('/admin/controls/revert', { onRequest: guard }, async (request) => {
      const before = snapshot(services);
      const c = services.config;
      services.admission.setLimits({ ...services.admission.state.limits, maxInFlight: c.admission.maxInFlight, modelMaxInFlight: modelLimits(c) });
      services.controls.rateLimitPerMinute = c.rateLimit.perMinute;
      services.controls.maxPromptChars = c.server.maxPromptChars;
      services.controls.maxTokensCap = undefined;
      for (const e of services.registry.list()) {
        e.disabled = false;
        e.forceFallback = false;
      }
      const after = snapshot(services);
      record(request, 'revert_controls', before, after);
      return { current: after };
    });

    for (const [action, disabled] of [
      ['disable', true],
      ['enable', false],
    ] as const) {
      typed.post(`/admin/models/:name/${action}`, { onRequest: guard, schema: { params: z.object({ name: z.string() }) } }, async (request) => {
        const entry = modelEntry(request.params.name);
        const before = { model: entry.config.name, disabled: entry.disabled };
        entry.disabled = disabled;
        record(request, `${action}_model`, before, { model: entry.config.name, disabled });
        return { model: entry.config.name, disabled };
      });
    }

    typed.post(
      '/admin/models/:name/force-fallback',
      { onRequest: guard, schema: { params: z.object({ name: z.string() }), body: z.object({ enabled: z.boolean() }).strict() } },
      async (request) => {
        const entry = modelEntry(request.params.name);
        if (request.body.enabled && entry.config.fallbacks.length === 0) {
          throw new GatewayError('invalid_request', `The model '${entry.config.name}' has no fallbacks to force`, { param: 'enabled' });
        }
        const before = { model: entry.config.name, forceFallback: entry.forceFallback };
        entry.forceFallback = request.body.enabled;
        record(request, 'force_fallback', before, { model: entry.config.name, forceFallback: entry.forceFallback });
        return { model: entry.config.name, forceFallback: entry.forceFallback };
      },
    );

    typed.get('/admin/chaos', { onRequest: guard }, async () => services.chaos.current);
    typed.post('/admin/chaos', { onRequest: guard, schema: { body: chaosPatch } }, async (request) => {
      const before = services.chaos.current;
      const after = services.chaos.update(request.body);
      record(request, 'chaos', before, after);
      return after;
    });
  };
}
