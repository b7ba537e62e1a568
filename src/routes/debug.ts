/**
 * On-call endpoints, behind the admin token: GET /debug/diagnostics (one JSON snapshot of the
 * host, the process, the GPUs as Triton reports them, each Triton target and model, admission,
 * recent errors, build and a secret-free config summary) and GET /debug/active-requests.
 * Both answer from cached state; neither shows secrets or prompt text.
 */
import { statfs } from 'node:fs/promises';
import { freemem, hostname, loadavg, networkInterfaces, totalmem, uptime, cpus } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { adminTokenGuard } from '../plugins/auth.js';
import { urlOrigin } from '../secret-urls.js';
import type { GatewayServices } from '../services.js';

function configSummary(services: GatewayServices) {
  const c = services.config;
  return {
    server: { host: c.server.host, port: c.server.port, bodyLimitBytes: c.server.bodyLimitBytes, maxPromptChars: c.server.maxPromptChars },
    auth: { apiKeys: c.auth.apiKeys.length, adminTokenSet: c.auth.adminToken !== undefined },
    // The metrics endpoint's origin only: its URL may carry credentials or a token (secret-urls.ts).
    targets: c.triton.targets.map((t) => ({ name: t.name, grpc: t.grpc, metricsUrl: t.metricsUrl ? urlOrigin(t.metricsUrl) : null, tls: t.tls })),
    admission: c.admission,
    shutdown: c.shutdown,
    logging: c.logging,
  };
}

function openHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

function network() {
  return Object.entries(networkInterfaces()).map(([name, addrs]) => ({
    name,
    addresses: (addrs ?? []).length,
    families: [...new Set((addrs ?? []).map((a) => a.family))],
  }));
}

async function disk(): Promise<{ path: string; totalBytes: number; freeBytes: number; usedPercent: number } | null> {
  try {
    const s = await statfs(process.cwd());
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    return { path: process.cwd(), totalBytes: total, freeBytes: free, usedPercent: total > 0 ? Math.round(((total - free) / total) * 10000) / 100 : 0 };
  } catch {
    return null;
  }
}

export function debugRoutes(services: GatewayServices) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const guard = adminTokenGuard(services.config.auth.adminToken);

    app.get('/debug/diagnostics', { onRequest: guard }, async () => {
      const runtime = services.runtime.latest();
      const mem = process.memoryUsage();
      const scrapes = services.tritonMetrics.snapshot();
      const now = Date.now();
      return {
        generatedAt: new Date(now).toISOString(),
        system: {
          hostname: hostname(),
          cpu: { count: cpus().length, percent: runtime.hostCpuPercent, sampledAt: new Date(runtime.sampledAt).toISOString() },
          load: loadavg(),
          memory: { totalBytes: totalmem(), freeBytes: freemem(), usedPercent: Math.round((1 - freemem() / totalmem()) * 10000) / 100 },
          disk: await disk(),
          network: network(),
          uptimeSeconds: Math.round(uptime()),
        },
        process: {
          pid: process.pid,
          node: process.version,
          uptimeSeconds: Math.round(process.uptime()),
          cpuPercent: runtime.processCpuPercent,
          memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal, externalBytes: mem.external },
          eventLoop: { delayMs: runtime.eventLoopDelayMs, utilization: runtime.eventLoopUtilization },
          openHandles: openHandles(),
        },
        gpus: scrapes.flatMap((s) => s.gpus),
        triton: services.registry.targets().map((t) => {
          const scrape = scrapes.find((s) => s.target === t.name);
          return {
            name: t.name,
            ready: t.up,
            metrics: scrape
              ? { lastSuccessAgeSeconds: scrape.lastSuccessAt === null ? null : Math.round((now - scrape.lastSuccessAt) / 100) / 10, lastError: scrape.lastError, pendingRequests: scrape.pendingRequests }
              : null,
          };
        }),
        models: services.registry.list().map((e) => ({
          name: e.config.name,
          target: e.upstream.name,
          tritonModel: e.tritonModel,
          state: e.state,
          disabled: e.disabled,
          forceFallback: e.forceFallback,
          flavour: e.schema?.flavour ?? null,
          versions: e.schema?.versions ?? [],
          servedVersion: e.servedVersion || null,
          lastError: e.lastError ?? null,
          lastWarmup: e.lastWarmup ?? null,
          fallbacks: e.config.fallbacks,
        })),
        breakers: services.breakers.list().map((b) => ({
          ...b,
          openedAt: b.openedAt === null ? null : new Date(b.openedAt).toISOString(),
          retryAt: b.retryAt === null ? null : new Date(b.retryAt).toISOString(),
        })),
        admission: { ...services.admission.state, draining: services.lifecycle.draining },
        controls: { ...services.controls, recentChanges: services.controlChanges.slice(-10) },
        chaos: services.chaos.current,
        anomalies: services.anomalies.list(),
        responseCache: { enabled: services.responseCache.enabled, entries: services.responseCache.size },
        recentErrors: services.recentErrors.list(),
        build: services.build,
        config: configSummary(services),
      };
    });

    app.get('/debug/active-requests', { onRequest: guard }, async () => ({
      count: services.active.size,
      // Oldest first: the in-flight table keeps no insertion order.
      requests: [...services.active].sort((a, b) => a.startedAt - b.startedAt).map((o) => ({
        requestId: o.requestId,
        model: o.model,
        servedModel: o.servedModelName ?? null,
        ageMs: Math.round(o.ageMs),
        stream: o.stream,
        tokensSoFar: o.tokensSoFar,
        msSinceLastToken: o.msSinceLastToken === null ? null : Math.round(o.msSinceLastToken),
        // Its size only, never its text.
        promptChars: o.promptChars ?? null,
      })),
    }));
  };
}
