/**
 * A waiver the event log cannot take is not a waiver: POST /admin/waivers answers 500 with an
 * OpenAI error body (no stack) instead of 201, and the waiver is not in effect, since one held
 * only in memory would vanish at the next restart. The event log is /dev/full: every write to it
 * fails with ENOSPC, a real full disk without privileges.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

const TOKEN = 'admin-token-for-waiver-not-saved';
let stack: Stack;

before(async () => {
  stack = await startStack({ config: { auth: { adminToken: TOKEN }, governance: { eventLog: '/dev/full', enginePollMs: 0 } } });
});
after(() => stack?.close());

const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

test('a waiver that cannot be written to the event log gets a 500 and is not in effect', async () => {
  const res = await fetch(`${stack.url}/admin/waivers`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ model: 'llama-3-8b', signal: 'cost', reason: 'launch week spend', expires_in_minutes: 60 }),
  });
  assert.equal(res.status, 500);
  const body = (await res.json()) as { error: { message: string; type: string; code: string; param: unknown } };
  assert.equal(body.error.type, 'server_error');
  assert.equal(body.error.code, 'internal_error');
  assert.match(body.error.message, /^The waiver was not recorded: the governance event log could not be written \(ENOSPC\)\. It is not in effect/);
  assert.doesNotMatch(JSON.stringify(body), /\n\s+at |\/dev\/full/);

  const list = await fetch(`${stack.url}/admin/waivers`, { headers: admin });
  assert.deepEqual(((await list.json()) as { waivers: unknown[] }).waivers, []);
  assert.equal(stack.logs.find('llm_waiver_recorded (not written to the event log)').length, 1, 'the event is in the error log');
});

test("the waiver's 500 is logged as a failed request, with its code and request id, for on-call to find", async () => {
  const res = await fetch(`${stack.url}/admin/waivers`, {
    method: 'POST',
    headers: { ...admin, 'x-request-id': 'waiver-500-7' },
    body: JSON.stringify({ model: 'qwen3', signal: 'cost', reason: 'second try', expires_in_minutes: 60 }),
  });
  assert.equal(res.status, 500);
  // Its own line, picked by request id: the body says only "internal_error", the log says why.
  const failed = stack.logs.find('request failed').filter((l) => l.reqId === 'waiver-500-7');
  assert.equal(failed.length, 1, JSON.stringify(stack.logs.find('request failed')));
  assert.equal(failed[0]!.level, 'error');
  assert.equal(failed[0]!.error_code, 'internal_error');
  assert.match(JSON.stringify(failed[0]!.err), /ENOSPC/);
});
