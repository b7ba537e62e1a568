/**
 * Rate limits shared through Redis must not make the gateway depend on Redis: with the store
 * unreachable, inference requests pass unlimited at once (no queueing behind ioredis's
 * reconnects) and the outage is one JSON log line, not an error per reconnect attempt.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort } from '../helpers/free-port.js';
import { startStack, type Stack } from '../helpers/stack.js';

const token = 'admin-token-for-tests-0123';
let stack: Stack;
before(async () => {
  // Nothing listens there: every connection attempt is refused.
  const closed = await freePort();
  stack = await startStack({ env: { GATEWAY_ADMIN_TOKEN: token }, config: { rateLimit: { redisUrl: `redis://127.0.0.1:${closed}` } } });
});
after(async () => stack.close());

test('requests pass unlimited while the rate-limit Redis is unreachable, and the outage is logged once', async () => {
  const patched = await fetch(`${stack.url}/admin/controls`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rateLimitPerMinute: 1 }),
  });
  assert.equal(patched.status, 200);
  // A limit of 1 per minute would refuse the second; with no store, every one passes.
  for (let i = 0; i < 4; i += 1) assert.equal((await fetch(`${stack.url}/v1/models`)).status, 200);
  assert.equal(stack.logs.find('rate-limit Redis unavailable: requests are not rate-limited until it is back').length, 1);
});
