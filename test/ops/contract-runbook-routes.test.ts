/**
 * Contract: every gateway endpoint and admin call a runbook shows exists in the real app's route
 * table, needs the admin token exactly where the runbook sends it, and is accepted as written —
 * its JSON body passes the route's schema — when sent to a real gateway. The hand-kept route list
 * the fast runbook checks use (support/known-endpoints.ts) is held to the same table. Calls to
 * Triton's /v2/models/{model}/... name the model as Triton knows it: $TRITON_MODEL, derived the
 * way runbooks/README.md says, is a model of the simulator behind the gateway; $MODEL is not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { extractCurlCalls, matchRoute, type CurlCall, type RouteSpec } from '../helpers/runbook-endpoints.js';
import { primary, startResilienceStack } from '../helpers/resilience-stack.js';
import type { Stack } from '../helpers/stack.js';
import { recordRoutes } from './support/app-routes.js';
import { curlRequest, expand } from './support/curl-request.js';
import { gatewayRoutes } from './support/known-endpoints.js';
import { listFiles, readText } from './support/repo-files.js';

const adminToken = 'contract-test-admin-token-0123456789';
/**
 * The runbooks' shell variables (runbooks/README.md), as the test fills them in. TARGET_VERSION,
 * which README.md derives before a rollback, is the simulator's one version of $MODEL's Triton
 * model: the rollback is accepted (already on target).
 */
const shellValues = { MODEL: 'llama-3-8b', USER: 'contract-test', GATEWAY_ADMIN_TOKEN: adminToken, TARGET_VERSION: '1' };

let stack: Stack;
let routes: RouteSpec[] = [];

before(async () => {
  const recorder = recordRoutes();
  try {
    // $MODEL is llama-3-8b, which has a fallback, so force-fallback has somewhere to go.
    stack = await startResilienceStack({ config: { auth: { adminToken } } });
  } finally {
    recorder.stop();
  }
  assert.equal(recorder.instances(), 1, 'one Fastify instance: the gateway');
  routes = recorder.routes.filter((r) => r.method !== 'HEAD');
});
after(async () => stack?.close());

const calls: Array<CurlCall & { file: string }> = listFiles('runbooks', ['.md']).flatMap((file) =>
  extractCurlCalls(readText(file))
    .filter((c) => c.base === 'GATEWAY_URL')
    .map((c) => ({ ...c, file })),
);
const where = (c: CurlCall & { file: string }) => `${c.file}:${c.line}: ${c.method} ${c.path}`;
const sendsToken = (c: CurlCall) => c.headers.includes('Authorization: Bearer $GATEWAY_ADMIN_TOKEN');

function inject(c: CurlCall, withToken: boolean) {
  const req = curlRequest(c, shellValues);
  const headers = { ...req.headers };
  if (!withToken) delete headers.authorization;
  return stack.app.inject({ method: req.method as 'GET', url: req.url, headers, ...(req.body !== undefined ? { payload: req.body } : {}) });
}

describe('runbook calls against the real route table', () => {
  test('the route table was recorded from the running app', () => {
    assert.ok(routes.length > 15, `only ${routes.length} routes recorded`);
    assert.ok(matchRoute(routes, 'POST', '/v1/completions'));
    assert.ok(calls.length > 50, `only ${calls.length} gateway calls in the runbooks`);
  });

  test('every gateway call in a runbook is a route of the app', () => {
    const missing = calls.filter((c) => !matchRoute(routes, c.method, c.path)).map(where);
    assert.deepEqual(missing, []);
  });

  test('the hand-kept route list of support/known-endpoints.ts is the app route table', () => {
    const key = (r: RouteSpec) => `${r.method} ${r.path}`;
    assert.deepEqual(gatewayRoutes.map(key).sort(), [...new Set(routes.map(key))].sort());
  });

  test('the admin token is sent exactly to the routes that refuse a request without it', async () => {
    const seen = new Set<string>();
    for (const call of calls) {
      const route = matchRoute(routes, call.method, call.path)!;
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const res = await inject(call, false);
      const needsToken = res.statusCode === 401;
      assert.equal(sendsToken(call), needsToken, `${where(call)}: answered ${res.statusCode} without the token`);
      const listed = gatewayRoutes.find((r) => r.method === route.method && r.path === route.path);
      assert.equal(listed?.admin, needsToken, `support/known-endpoints.ts marks ${key} admin=${listed?.admin}`);
    }
  });

  test('every admin call, with its body, is accepted by the app as written', async (t) => {
    const rejected: string[] = [];
    const answers = new Map<string, number>();
    for (const call of calls.filter((c) => c.path.startsWith('/admin/'))) {
      const res = await inject(call, true);
      answers.set(`${call.method} ${call.path}`, res.statusCode);
      // 2xx, or an answer about the gateway's or Triton's state (409 conflict; 502-504 when a
      // warm-up or rollback cannot reach Triton in time) — never an unknown route, a wrong method,
      // a missing token, a wrong content type, a body the route's schema rejects, or a 500.
      const stateAnswer = res.statusCode === 409 || (res.statusCode >= 502 && res.statusCode <= 504);
      if (!(res.statusCode < 300 || stateAnswer)) rejected.push(`${where(call)} → ${res.statusCode} ${res.body}`);
    }
    t.diagnostic(`answers: ${[...answers].map(([call, status]) => `${call} ${status}`).join('; ')}`);
    assert.deepEqual(rejected, []);
    assert.ok(answers.size >= 8, `only ${answers.size} distinct admin calls`);
  });
});

describe("runbook calls to Triton's model API", () => {
  /** runbooks/README.md: export TRITON_MODEL="$(curl ... | jq -r <path>)". */
  const derivation = /^export TRITON_MODEL="\$\((curl .*?) \| jq -r (\.[A-Za-z_.]+)\)"$/m.exec(readText('runbooks/README.md'));
  const tritonCalls = listFiles('runbooks', ['.md']).flatMap((file) =>
    extractCurlCalls(readText(file))
      .filter((c) => c.base === 'TRITON_HTTP_URL' && c.path.startsWith('/v2/models/'))
      .map((c) => ({ ...c, file })),
  );

  test('README.md derives $TRITON_MODEL from the gateway: the Triton model behind $MODEL', async () => {
    assert.ok(derivation, 'runbooks/README.md has no `export TRITON_MODEL="$(curl ... | jq -r .path)"` line');
    const [call] = extractCurlCalls(derivation[1]!);
    const res = await inject(call!, true);
    assert.equal(res.statusCode, 200, res.body);
    let value: unknown = res.json();
    for (const key of derivation[2]!.slice(1).split('.')) value = (value as Record<string, unknown> | null)?.[key];
    assert.equal(value, primary, `${derivation[2]} of ${call!.path}`);
  });

  test('every /v2/models/{model}/... call names a model Triton has', async () => {
    assert.ok(tritonCalls.length >= 4, `only ${tritonCalls.length} Triton model calls in the runbooks`);
    // $TRITON_MODEL as the README derives it (checked above); the public $MODEL is not a Triton model.
    const values = { ...shellValues, TRITON_MODEL: primary };
    const unknown: string[] = [];
    for (const call of tritonCalls) {
      const segment = call.path.split('/')[3]!;
      const model = segment.startsWith(':') ? expand(`$${segment.slice(1)}`, values) : segment;
      const res = await fetch(`${stack.sim.httpUrl}/v2/models/${encodeURIComponent(model)}/ready`);
      if (res.status !== 200) unknown.push(`${call.file}:${call.line}: ${call.path} → "${model}" (ready: ${res.status})`);
    }
    assert.deepEqual(unknown, []);
  });
});
