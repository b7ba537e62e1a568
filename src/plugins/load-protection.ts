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
import { bearer, createKeyCheck } from './auth.js';

// The matched route, not the raw URL: the router decodes the path, so `/%761/completions` is
// /v1/completions and must be limited and shed like it.
const isInference = (req: FastifyRequest): boolean => req.routeOptions.url?.startsWith('/v1/') === true;

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
  const redis = config.rateLimit.redisUrl ? await connectRedis(config.rateLimit.redisUrl, app) : undefined;
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: 60_000,
    max: () => controls.rateLimitPerMinute ?? Number.MAX_SAFE_INTEGER,
    allowList: (req) => !isInference(req) || controls.rateLimitPerMinute === undefined,
    keyGenerator: (req) => {
      const token = bearer(req);
      return token && isKnownKey(token) ? `key:${createHash('sha256').update(token).digest('hex').slice(0, 16)}` : `ip:${req.ip}`;
    },
    onExceeded: () => metrics.requestsShed.inc({ reason: 'rate_limited' }),
    errorResponseBuilder: (_req, ctx) =>
      new GatewayError('rate_limited', `Rate limit of ${ctx.max} requests per minute exceeded; retry in ${Math.ceil(ctx.ttl / 1000)} s`, {
        retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)),
      }),
    ...(redis ? { redis, skipOnError: true } : {}),
  });
  // quit() needs a connection (and there is no offline queue); without one, just drop the socket.
  if (redis) app.addHook('onClose', async () => void (await redis.quit().catch(() => redis.disconnect())));
}

/**
 * The shared rate-limit store. While Redis is unreachable every command fails at once
 * (no offline queue: ioredis would hold each request through its reconnect attempts, 3–10 s,
 * before `skipOnError` let it pass), and the outage is logged once as JSON, not as ioredis's
 * plain-text "Unhandled error event" on stderr for every attempt.
 */
async function connectRedis(url: string, app: FastifyInstance): Promise<import('ioredis').Redis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 500 });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    app.log.warn({ err: { message: err.message } }, 'rate-limit Redis unavailable: requests are not rate-limited until it is back');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    app.log.info('rate-limit Redis reachable again');
  });
  return redis;
}

export default fp(loadProtection, { name: 'load-protection' });
