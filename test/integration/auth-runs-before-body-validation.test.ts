/**
 * A caller without a valid key or admin token gets 401 before its body is parsed or validated:
 * never a 400 that describes the schema to someone who may not use it (DESIGN §3: auth, then
 * validation). With the key, the same body is still the 400 that names the field.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

const apiKey = 'test-key-0123456789abcdef';
const adminToken = 'admin-token-0123456789abcdef';
let stack: Stack;

before(async () => {
  stack = await startStack({
    config: {
      server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 4096 },
      auth: { apiKeys: [apiKey], adminToken },
      models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', chatTemplate: { inline: '{% for m in messages %}{{ m.content }}{% endfor %}' } }],
    },
  });
});
after(async () => stack.close());

interface Answer {
  status: number;
  body: any;
}

async function send(method: string, path: string, body: string | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, body: JSON.parse(await res.text()) };
}

function assertUnauthorized(res: Answer, what: string): void {
  assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body.error.message, 'string');
  assert.equal(res.body.error.type, 'invalid_request_error');
  assert.equal(res.body.error.code, 'invalid_api_key');
  assert.equal(res.body.error.param, null);
}

const inferenceCases: Array<[string, string, string, string]> = [
  // [what, path, body, the param a keyed caller is told about]
  ['completions: an unknown field', '/v1/completions', '{"model":"llama-3-8b","prompt":"hi","foo":1}', 'foo'],
  ['completions: a missing prompt', '/v1/completions', '{"model":"llama-3-8b"}', 'prompt'],
  ['completions: temperature out of range', '/v1/completions', '{"model":"llama-3-8b","prompt":"hi","temperature":9}', 'temperature'],
  ['chat: empty messages', '/v1/chat/completions', '{"model":"llama-3-8b","messages":[]}', 'messages'],
  ['chat: an unknown field', '/v1/chat/completions', '{"model":"llama-3-8b","messages":[{"role":"user","content":"hi"}],"bogus":true}', 'bogus'],
];

test('inference: no key and an invalid body is a 401, not a 400 describing the schema', async (t) => {
  for (const [what, path, body] of inferenceCases) {
    await t.test(what, async () => {
      assertUnauthorized(await send('POST', path, body), `${what}, no key`);
      assertUnauthorized(await send('POST', path, body, { authorization: 'Bearer wrong-key-0123456789' }), `${what}, wrong key`);
    });
  }
});

test('inference: no key means the body is not even parsed (malformed JSON, over the limit, not JSON)', async () => {
  for (const path of ['/v1/completions', '/v1/chat/completions']) {
    assertUnauthorized(await send('POST', path, '{"model": "llama-3-8b", "prompt": '), `${path} malformed JSON`);
    assertUnauthorized(await send('POST', path, JSON.stringify({ model: 'llama-3-8b', prompt: 'y'.repeat(5000) })), `${path} over the body limit`);
    assertUnauthorized(await send('POST', path, 'model=llama-3-8b', { 'content-type': 'text/plain' }), `${path} not JSON`);
  }
});

test('inference: with a valid key the same bodies are still 400s naming the field', async (t) => {
  stack.sim.reset(); // forget the warm-up call
  for (const [what, path, body, param] of inferenceCases) {
    await t.test(what, async () => {
      const res = await send('POST', path, body, { authorization: `Bearer ${apiKey}` });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.type, 'invalid_request_error');
      assert.equal(res.body.error.param, param);
    });
  }
  assert.deepEqual(stack.sim.received(), [], 'no request reached the simulator');
});

const adminCases: Array<[string, string, string | undefined]> = [
  ['PATCH', '/admin/controls', '{"bogus":1}'],
  ['POST', '/admin/chaos', '{"bogus":1}'],
  ['POST', '/admin/models/llama-3-8b/force-fallback', '{"bogus":1}'],
  ['POST', '/admin/models/llama-3-8b/rollback', '{"bogus":1}'],
  ['POST', '/admin/waivers', '{"bogus":1}'],
  ['GET', '/admin/events?bogus=1', undefined],
];

test('admin: no token and an invalid body or query is a 401; with the token it is the 400', async (t) => {
  for (const [method, path, body] of adminCases) {
    await t.test(`${method} ${path}`, async () => {
      assertUnauthorized(await send(method, path, body), `${method} ${path}, no token`);
      assertUnauthorized(await send(method, path, body, { authorization: 'Bearer wrong-token-0123456789' }), `${method} ${path}, wrong token`);
      const keyed = await send(method, path, body, { authorization: `Bearer ${adminToken}` });
      assert.equal(keyed.status, 400, JSON.stringify(keyed.body));
      assert.equal(keyed.body.error.code, 'invalid_request');
    });
  }
  // A malformed admin body is not parsed either.
  assertUnauthorized(await send('PATCH', '/admin/controls', '{"maxInFlight": '), 'malformed admin body');
});

test('debug: no token is a 401', async () => {
  for (const path of ['/debug/diagnostics', '/debug/active-requests']) {
    assertUnauthorized(await send('GET', path, undefined), path);
    const keyed = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(keyed.status, 200);
    await keyed.body?.cancel();
  }
});
