/**
 * A receiver that asks the notifier to come back later (429 Too Many Requests, 408 Request
 * Timeout) gets the payload on a retry: those answers are temporary, unlike other 4xx.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { WebhookNotifier } from '../../../src/governance/webhook.js';

const servers: Server[] = [];
after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

/** Answers `first` to the first call and 204 after; counts the calls. */
async function receiver(first: number): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.statusCode = calls === 1 ? first : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, calls: () => calls };
}

for (const status of [429, 408]) {
  test(`a ${status} is retried and the payload delivered`, async () => {
    const r = await receiver(status);
    const hook = new WebhookNotifier({ url: r.url, name: 'test', retries: 3, baseDelayMs: 5, timeoutMs: 2000 });
    hook.send({ event: 'llm_observability_alert' }, 'event-1');
    await hook.idle();
    assert.equal(r.calls(), 2);
    assert.deepEqual({ ...hook.snapshot() }, { delivered: 1, failed: 0, dropped: 0, attempts: 2, queued: 0 });
    await hook.close();
  });
}
