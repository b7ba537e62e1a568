/**
 * Bearer-token checks: API keys for /v1/* (when any are configured) and the admin token for
 * /debug/* and /admin/* (always required; with no token configured those routes answer 401).
 * Comparisons hash both sides first so they take the same time whatever the key's length.
 *
 * Routes register the guards as `onRequest` hooks: they only read headers, and there they run
 * before the body is parsed or validated, so a caller without a key gets 401, never a 400 that
 * describes the schema, and its body is never parsed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The token of an `Authorization: Bearer <token>` header; the rate limit keys by it too (load-protection.ts). */
export function bearer(request: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

export function createKeyCheck(keys: readonly string[]): (candidate: string | undefined) => boolean {
  const digests = keys.map(digest);
  return (candidate) => {
    if (candidate === undefined) return false;
    const d = digest(candidate);
    let ok = false;
    // No early exit: every key is compared, so timing says nothing about which one matched.
    for (const k of digests) ok = timingSafeEqual(k, d) || ok;
    return ok;
  };
}

export function apiKeyGuard(keys: readonly string[]) {
  const check = createKeyCheck(keys);
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (keys.length === 0) return;
    if (!check(bearer(request))) {
      throw new GatewayError('invalid_api_key', 'Incorrect or missing API key. Send it as "Authorization: Bearer <key>".');
    }
  };
}

export function adminTokenGuard(token: string | undefined) {
  const check = createKeyCheck(token ? [token] : []);
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!token) throw new GatewayError('invalid_api_key', 'Admin endpoints are disabled: set GATEWAY_ADMIN_TOKEN.');
    if (!check(bearer(request))) throw new GatewayError('invalid_api_key', 'Incorrect or missing admin token.');
  };
}
