/**
 * The governance event log over HTTP, behind the admin token:
 *   GET  /admin/events?limit=100&type=llm_warmup_failed&model=llama-3-8b&since=ISO
 *        the newest matching events, oldest first, plus what the reader had to skip (unreadable
 *        lines, a torn last line after a crash)
 *   POST /admin/waivers {"model", "signal": "cost"|"queue_delay", "reason", "expires_in_minutes"}
 *        accepts the spend (or delay) until then; recorded as llm_waiver_recorded (500, and no
 *        waiver, when the event log cannot take it)
 *   GET  /admin/waivers the active waivers
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { actorOf } from '../governance/actor.js';
import { EVENT_TYPES, alertSignalSchema } from '../governance/events.js';
import type { Governance } from '../governance/governance.js';
import { EventNotRecordedError } from '../governance/recorder.js';
import { adminTokenGuard } from '../plugins/auth.js';
import type { GatewayServices } from '../services.js';

const eventsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
    type: z.enum(EVENT_TYPES).optional(),
    model: z.string().min(1).optional(),
    since: z.string().datetime({ offset: true }).optional(),
    until: z.string().datetime({ offset: true }).optional(),
  })
  .strict();

const waiverBody = z
  .object({
    model: z.string().min(1),
    signal: alertSignalSchema,
    reason: z.string().min(3).max(500),
    /** How long the waiver lasts (at most 90 days). */
    expires_in_minutes: z.number().int().positive().max(90 * 24 * 60),
  })
  .strict();

export function adminEventsRoutes(services: GatewayServices, governance: Governance) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    const guard = adminTokenGuard(services.config.auth.adminToken);

    typed.get('/admin/events', { onRequest: guard, schema: { querystring: eventsQuery } }, async (request) => {
      const read = await governance.events(request.query);
      return {
        path: services.config.governance.eventLog,
        count: read.events.length,
        events: read.events,
        skipped_lines: read.problems,
        torn_last_line: read.tornTail ?? null,
      };
    });

    typed.post('/admin/waivers', { onRequest: guard, schema: { body: waiverBody } }, async (request, reply) => {
      const body = request.body;
      services.registry.require(body.model);
      let event;
      try {
        event = await governance.recordWaiver({
          model: body.model,
          signal: body.signal,
          reason: body.reason,
          actor: actorOf(request.headers),
          expiresAt: new Date(Date.now() + body.expires_in_minutes * 60_000),
        });
      } catch (err) {
        // Not saved means not in effect: a 201 here would be a waiver that vanishes at the next restart.
        if (err instanceof EventNotRecordedError) {
          const code = (err.cause as { code?: unknown }).code;
          throw new GatewayError('internal_error', `The waiver was not recorded: the governance event log could not be written${typeof code === 'string' ? ` (${code})` : ''}. It is not in effect; retry once the log is writable.`, { cause: err });
        }
        throw err;
      }
      return reply.code(201).send({ waiver: event });
    });

    typed.get('/admin/waivers', { onRequest: guard }, async () => ({
      waivers: governance.waivers.list().map((w) => ({ ...w, expiresAt: new Date(w.expiresAt).toISOString() })),
    }));
  };
}
