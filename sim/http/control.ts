/**
 * The control API tests and operators use to steer the simulator:
 *   POST   /control/faults/:model   set a fault (FaultSpec JSON)
 *   DELETE /control/faults/:model   clear it;  DELETE /control/faults  clears all
 *   GET    /control/faults          the faults set now
 *   GET    /control/requests        recorded requests (?last=N, ?model=name)
 *   GET    /control/state           per-model counters and GPU state
 *   POST   /control/reset           clear recordings and counters
 *   POST   /control/ready           {"ready": false} flips server readiness
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorCore } from '../engine/simulator-core.js';
import { readJson, sendError, sendJson } from './respond.js';

export async function handleControl(core: SimulatorCore, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent); // ['control', ...]
  const method = req.method ?? 'GET';
  const resource = parts[1];

  if (resource === 'faults') {
    const model = parts[2];
    if (method === 'GET' && model === undefined) return sendJson(res, 200, { faults: core.faults.all() });
    if (method === 'DELETE') {
      if (model !== undefined && core.repository.definition(model) === undefined) return sendError(res, 404, `unknown model '${model}'`);
      core.faults.clear(model);
      return sendJson(res, 200, { cleared: model ?? 'all' });
    }
    if (method === 'POST' && model !== undefined) {
      if (core.repository.definition(model) === undefined) return sendError(res, 404, `unknown model '${model}'`);
      try {
        const fault = core.setFault(model, await readJson(req));
        return sendJson(res, 200, { model, fault });
      } catch (err) {
        return sendError(res, 400, (err as Error).message);
      }
    }
  }
  if (resource === 'requests' && method === 'GET') {
    const last = Number(url.searchParams.get('last') ?? url.searchParams.get('limit') ?? 100);
    const model = url.searchParams.get('model');
    let requests = core.recorder.list();
    if (model !== null) requests = requests.filter((r) => r.model === model);
    if (Number.isFinite(last) && last >= 0) requests = requests.slice(Math.max(0, requests.length - last));
    return sendJson(res, 200, { requests });
  }
  if (resource === 'state' && method === 'GET') return sendJson(res, 200, core.state());
  if (resource === 'reset' && method === 'POST') {
    core.reset();
    return sendJson(res, 200, { reset: true });
  }
  if (resource === 'ready' && method === 'POST') {
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (err) {
      return sendError(res, 400, (err as Error).message);
    }
    const ready = (body as { ready?: unknown } | undefined)?.ready;
    if (typeof ready !== 'boolean') return sendError(res, 400, 'expected {"ready": true|false}');
    core.ready = ready;
    return sendJson(res, 200, { ready });
  }
  return sendError(res, 404, `no control endpoint ${method} ${url.pathname}`);
}
