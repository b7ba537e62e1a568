/**
 * Two edge protections for inference routes (/v1/*), both from well-kept fastify plugins:
 * - load shedding with @fastify/under-pressure: when event-loop delay, heap or event-loop
 *   utilisation pass their limits, new inference requests get 503 + Retry-After at once;
 * - per-client rate limits with @fastify/rate-limit (in memory; Redis when `rateLimit.redisUrl`
 *   is set, so several replicas share one budget), adjustable at run time by the admin API.
 * Health, metrics, debug and admin routes are never shed or limited.
 */
import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GatewayError } from '../errors.js';
import type { GatewayServices } from '../services.js';
import { createKeyCheck } from './auth.js';

const isInference = (req: FastifyRequest): boolean => req.url.startsWith('/v1/');

async function loadProtection(app: FastifyInstance, opts: { services: GatewayServices }): Promise<void> {
  const { services } = opts;
  const { config, metrics, controls } = services;
  const shed = config.loadShedding;

  await app.register(underPressure, {
    maxEventLoopDelay: shed.maxEventLoopDelayMs,
    ...(shed.maxHeapUsedBytes ? { maxHeapUsedBytes: shed.maxHeapUsedBytes } : {}),
    ...(shed.maxEventLoopUtilization ? { maxEventLoopUtilization: shed.maxEventLoopUtilization } : {}),
    exposeStatusRoute: false,
    pressureHandler: (req, _reply, type, value) => {
      if (!isInference(req)) return undefined;
      metrics.requestsShed.inc({ reason: 'under_pressure' });
      return Promise.reject(
        new GatewayError('under_pressure', `The gateway is overloaded (${type} at ${typeof value === 'number' ? Math.round(value) : value}); retry shortly`, {
          retryAfterSeconds: shed.retryAfterSeconds,
        }),
      );
    },
  });

  // Keyed by API key when the caller presents a valid one, else by client address, so forged
  // keys cannot buy a fresh budget each.
  const isKnownKey = createKeyCheck(config.auth.apiKeys);
  const redis = config.rateLimit.redisUrl ? new (await import('ioredis')).Redis(config.rateLimit.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 }) : undefined;
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: 60_000,
    max: () => controls.rateLimitPerMinute ?? Number.MAX_SAFE_INTEGER,
    allowList: (req) => !isInference(req) || controls.rateLimitPerMinute === undefined,
    keyGenerator: (req) => {
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      const token = m?.[1];
      return token && isKnownKey(token) ? `key:${createHash('sha256').update(token).digest('hex').slice(0, 16)}` : `ip:${req.ip}`;
    },
    onExceeded: () => metrics.requestsShed.inc({ reason: 'rate_limited' }),
    errorResponseBuilder: (_req, ctx) =>
      new GatewayError('rate_limited', `Rate limit of ${ctx.max} requests per minute exceeded; retry in ${Math.ceil(ctx.ttl / 1000)} s`, {
        retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)),
      }),
    ...(redis ? { redis, skipOnError: true } : {}),
  });
  if (redis) app.addHook('onClose', async () => void redis.quit());
}

export default fp(loadProtection, { name: 'load-protection' });
