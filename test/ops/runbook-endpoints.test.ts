/** The curl extraction the ops and contract tests rely on (test/helpers/runbook-endpoints.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractCurlCalls, matchRoute, shellWords } from '../helpers/runbook-endpoints.js';

describe('extractCurlCalls', () => {
  test('reads method, base variable, path and headers, across continued lines', () => {
    const calls = extractCurlCalls([
      '```bash',
      'curl -sS -X PATCH -H "Authorization: Bearer $GATEWAY_ADMIN_TOKEN" \\',
      "  -d '{\"maxInFlight\": 8}' \"$GATEWAY_URL/admin/controls\"",
      '```',
    ].join('\n'));
    assert.equal(calls.length, 1);
    assert.deepEqual({ ...calls[0], command: undefined }, {
      method: 'PATCH', base: 'GATEWAY_URL', path: '/admin/controls', headers: ['Authorization: Bearer $GATEWAY_ADMIN_TOKEN'], line: 2, command: undefined,
    });
  });

  test('defaults to GET, or POST with a body, and honours -G', () => {
    const calls = extractCurlCalls([
      'curl -sS "$GATEWAY_URL/readyz" | jq .',
      'curl -sS -d "{}" "${GATEWAY_URL}/admin/models/${MODEL}/warmup"',
      "curl -sG \"$PROMETHEUS_URL/api/v1/query\" --data-urlencode 'query=up'",
    ].join('\n'));
    assert.deepEqual(calls.map((c) => [c.method, c.base, c.path]), [
      ['GET', 'GATEWAY_URL', '/readyz'],
      ['POST', 'GATEWAY_URL', '/admin/models/:MODEL/warmup'],
      ['GET', 'PROMETHEUS_URL', '/api/v1/query'],
    ]);
  });

  test('finds a curl quoted inside another command, once', () => {
    const calls = extractCurlCalls(`runbooks/bin/each-gateway-pod.sh 'curl -sS -X POST "$GATEWAY_URL/admin/controls/revert"'`);
    assert.deepEqual(calls.map((c) => [c.method, c.path]), [['POST', '/admin/controls/revert']]);
  });

  test('keeps literal origins, so a test can reject them', () => {
    const [call] = extractCurlCalls('curl http://localhost:8080/debug/diagnostics');
    assert.equal(call!.base, 'http://localhost:8080');
  });
});

describe('matchRoute', () => {
  const routes = [{ method: 'POST', path: '/admin/models/:name/disable' }, { method: 'GET', path: '/v1/models' }];

  test('matches a trailing wildcard against the rest of the path', () => {
    const wildcard = [{ method: 'GET', path: '/v1/models/*' }];
    assert.ok(matchRoute(wildcard, 'GET', '/v1/models/:MODEL'));
    assert.ok(matchRoute(wildcard, 'GET', '/v1/models/org/name'));
    assert.equal(matchRoute(wildcard, 'GET', '/v1/models'), undefined);
    assert.equal(matchRoute(wildcard, 'GET', '/v1/models/'), undefined);
  });

  test('matches parameters segment by segment, and the method', () => {
    assert.ok(matchRoute(routes, 'POST', '/admin/models/:MODEL/disable'));
    assert.equal(matchRoute(routes, 'GET', '/admin/models/:MODEL/disable'), undefined);
    assert.equal(matchRoute(routes, 'POST', '/admin/models/disable'), undefined);
    assert.ok(matchRoute(routes, 'GET', '/v1/models'));
  });
});

test('shellWords honours quotes and stops at a pipe', () => {
  assert.deepEqual(shellWords(`curl -H "a b" 'c "d"' e\\ f | jq .`), ['curl', '-H', 'a b', 'c "d"', 'e f']);
});
