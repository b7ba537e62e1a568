/**
 * Who did it, for the audit trail: the `x-actor` header (a user name or e-mail the caller's
 * tooling sets), else "admin-token", the identity the admin bearer token stands for. Anything
 * that could smuggle log syntax is refused and falls back the same way.
 */
const ACTOR_HEADER = 'x-actor';

export function actorOf(headers: Record<string, string | string[] | undefined>): string {
  const raw = headers[ACTOR_HEADER];
  return typeof raw === 'string' && /^[\w.@:-]{1,64}$/.test(raw) ? raw : 'admin-token';
}
