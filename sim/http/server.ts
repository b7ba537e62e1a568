/**
 * The simulator's HTTP port: Triton's health and generate endpoints plus /control. The metrics
 * endpoint has its own port, as in Triton.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimulatorCore } from '../engine/simulator-core.js';
import { SERVER_EXTENSIONS, SERVER_NAME, SERVER_VERSION } from '../server-identity.js';
import { renderMetrics } from '../metrics/exposition.js';
import { handleControl } from './control.js';
import { handleGenerate } from './generate.js';
import { sendError, sendJson } from './respond.js';

const GENERATE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/(generate|generate_stream)$/;
const MODEL_READY = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/ready$/;

async function route(core: SimulatorCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const path = url.pathname;
  if (path.startsWith('/control/') || path === '/control') return handleControl(core, req, res, url);
  if (path === '/v2/health/live') return empty(res, 200);
  if (path === '/v2/health/ready') return empty(res, core.ready ? 200 : 400);
  if (path === '/v2' && req.method === 'GET') return sendJson(res, 200, { name: SERVER_NAME, version: SERVER_VERSION, extensions: SERVER_EXTENSIONS });
  const ready = MODEL_READY.exec(path);
  if (ready !== null) {
    try {
      core.repository.resolve(decodeURIComponent(ready[1]!), ready[2] ?? '');
      return empty(res, 200);
    } catch {
      return empty(res, 400);
    }
  }
  const gen = GENERATE.exec(path);
  if (gen !== null) {
    if (req.method !== 'POST') return sendError(res, 405, 'Method Not Allowed');
    return handleGenerate(core, req, res, decodeURIComponent(gen[1]!), gen[2] ?? '', gen[3] === 'generate_stream');
  }
  return sendError(res, 404, 'Not Found');
}

function empty(res: ServerResponse, statusCode: number): void {
  res.writeHead(statusCode, { 'content-length': 0 });
  res.end();
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startHttpServer(core: SimulatorCore, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    route(core, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, (err as Error).message);
      else res.destroy();
    });
  });
  return { server, port: await listen(server, host, port) };
}

export async function startMetricsServer(core: SimulatorCore, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics' || req.url?.startsWith('/metrics?')) {
      const body = renderMetrics(core);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      sendError(res, 404, 'Not Found');
    }
  });
  return { server, port: await listen(server, host, port) };
}

export function closeHttpServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
