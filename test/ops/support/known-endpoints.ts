/**
 * The HTTP endpoints runbooks may call, by base variable. The gateway's list mirrors its route
 * table (src/routes/, templates as Fastify writes them); the contract test compares it with the
 * real app's routes, so a route renamed in src/ fails there rather than in the middle of an
 * incident.
 */
import type { RouteSpec } from '../../helpers/runbook-endpoints.js';

export interface GatewayRoute extends RouteSpec {
  /** Needs `Authorization: Bearer $GATEWAY_ADMIN_TOKEN`. */
  admin: boolean;
}

export const gatewayRoutes: readonly GatewayRoute[] = [
  { method: 'POST', path: '/v1/completions', admin: false },
  { method: 'POST', path: '/v1/chat/completions', admin: false },
  { method: 'GET', path: '/v1/models', admin: false },
  { method: 'GET', path: '/v1/models/*', admin: false },
  { method: 'GET', path: '/metrics', admin: false },
  { method: 'GET', path: '/livez', admin: false },
  { method: 'GET', path: '/readyz', admin: false },
  { method: 'GET', path: '/debug/diagnostics', admin: true },
  { method: 'GET', path: '/debug/active-requests', admin: true },
  { method: 'GET', path: '/admin/controls', admin: true },
  { method: 'PATCH', path: '/admin/controls', admin: true },
  { method: 'POST', path: '/admin/controls/revert', admin: true },
  { method: 'POST', path: '/admin/models/:name/disable', admin: true },
  { method: 'POST', path: '/admin/models/:name/enable', admin: true },
  { method: 'POST', path: '/admin/models/:name/force-fallback', admin: true },
  { method: 'POST', path: '/admin/models/:name/warmup', admin: true },
  { method: 'POST', path: '/admin/models/:name/rollback', admin: true },
  { method: 'GET', path: '/admin/models/:name/engine', admin: true },
  { method: 'GET', path: '/admin/events', admin: true },
  { method: 'GET', path: '/admin/waivers', admin: true },
  { method: 'POST', path: '/admin/waivers', admin: true },
  { method: 'GET', path: '/admin/chaos', admin: true },
  { method: 'POST', path: '/admin/chaos', admin: true },
];

/** Other systems a runbook talks to: their documented HTTP APIs, the parts we use. */
export const otherEndpoints: Readonly<Record<string, readonly RouteSpec[]>> = {
  // Triton's KServe v2 HTTP API (port 8000) and its metrics port (8002).
  TRITON_HTTP_URL: [
    { method: 'GET', path: '/v2/health/live' },
    { method: 'GET', path: '/v2/health/ready' },
    { method: 'GET', path: '/v2/models/:model/ready' },
    { method: 'GET', path: '/v2/models/:model/config' },
    { method: 'GET', path: '/v2/models/:model/stats' },
    { method: 'POST', path: '/v2/repository/index' },
  ],
  TRITON_METRICS_BASE: [{ method: 'GET', path: '/metrics' }],
  PROMETHEUS_URL: [
    { method: 'GET', path: '/api/v1/query' },
    { method: 'GET', path: '/api/v1/query_range' },
    { method: 'GET', path: '/api/v1/alerts' },
    { method: 'GET', path: '/api/v1/targets' },
  ],
  ALERTMANAGER_URL: [{ method: 'GET', path: '/api/v2/alerts' }],
};
