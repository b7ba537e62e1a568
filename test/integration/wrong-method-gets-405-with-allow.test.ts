/**
 * A request to a path the gateway serves, with a method it does not serve there, is a 405 that
 * names the methods in `Allow` and in the OpenAI envelope; a path it does not serve stays a 404.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({ env: { GATEWAY_ADMIN_TOKEN: 'admin-token-0123456789abcdef' } });
});
after(async () => stack.close());

async function call(method: string, path: string): Promise<{ status: number; allow: string | null; requestId: string | null; body: any }> {
  const res = await fetch(`${stack.url}${path}`, { method });
  return { status: res.status, allow: res.headers.get('allow'), requestId: res.headers.get('x-request-id'), body: await res.json() };
}

test('GET /v1/completions is a 405 that says to use POST', async () => {
  const res = await call('GET', '/v1/completions?stream=true');
  assert.equal(res.status, 405);
  assert.equal(res.allow, 'POST');
  assert.equal(res.body.error.code, 'method_not_allowed');
  assert.equal(res.body.error.type, 'invalid_request_error');
  assert.equal(res.body.error.message, 'GET is not allowed on /v1/completions; use POST');
  assert.ok(res.requestId, 'the answer carries a request id');
});

test('a parametric or wildcard route answers its methods for any path it matches', async () => {
  const models = await call('DELETE', '/v1/models/org/some-model');
  assert.equal(models.status, 405);
  assert.match(models.allow ?? '', /\bGET\b/);
  const admin = await call('GET', '/admin/models/qwen3/disable');
  assert.equal(admin.status, 405);
  assert.equal(admin.allow, 'POST');
});

test('a path no route serves is still a 404 without Allow', async () => {
  const res = await call('GET', '/v1/nothing-here');
  assert.equal(res.status, 404);
  assert.equal(res.allow, null);
  assert.equal(res.body.error.code, 'not_found');
});

test('405s are counted like other refusals, under the unmatched endpoint', async () => {
  await call('PUT', '/v1/chat/completions');
  const metrics = await (await fetch(`${stack.url}/metrics`)).text();
  assert.match(metrics, /errors_total\{error_type="method_not_allowed",endpoint="[^"]+"\} [1-9]/);
  assert.match(metrics, /http_requests_total\{method="PUT",endpoint="[^"]+",status="405"\} [1-9]/);
});
