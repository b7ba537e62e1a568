/**
 * Governance.close() on shutdown: each webhook gets a 2 s grace to deliver what it still holds,
 * and the governance and finance webhooks take theirs side by side, so a gateway whose receivers
 * both hang exits ~2 s after its drain, not 4 (README, Shutdown). A real Governance, a real local
 * receiver that accepts every request and never answers, the graces timed on a mocked clock.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../../src/config.js';
import { Governance } from '../../../src/governance/governance.js';

let dir: string;
let hanging: Server;
const arrived: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'governance-close-'));
  hanging = createServer((req: IncomingMessage) => {
    arrived.push(req.url ?? '');
    // Never answered: the delivery stays in flight until the webhook gives up on it.
  });
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  hanging.closeAllConnections();
  await new Promise((resolve) => hanging.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

test('close() gives the governance and the finance webhook their 2 s grace at the same time, not one after the other', async (t) => {
  const base = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  const config = parseConfig({
    triton: { targets: [{ name: 'primary', grpc: '127.0.0.1:1' }] },
    models: [{ name: 'costly', maxCostUsd: 0.5 }],
    governance: {
      eventLog: join(dir, 'events.jsonl'),
      webhookUrl: `${base}/governance`,
      financeWebhookUrl: `${base}/finance`,
      webhookTimeoutMs: 30_000,
      enginePollMs: 0,
      policy: { evaluateIntervalMs: 60_000, cost: { windowMs: 60_000, minRequests: 1 } },
    },
  });
  const g = await Governance.create(config, pino({ level: 'silent' }), () => Date.now());
  // A cost alert is an event for both: the governance webhook gets every event, finance its alerts.
  g.policy.observe({ model: 'costly', costUsd: 2 });
  for (let i = 0; i < 100 && !(arrived.includes('/governance') && arrived.includes('/finance')); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(arrived.includes('/governance') && arrived.includes('/finance'), `both webhooks are delivering (arrived: ${arrived.join(', ')})`);

  // The graces are timers: run them on the test's clock, so nothing here depends on how fast the machine is.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let closed = false;
  const closing = g.close().then(() => {
    closed = true;
  });
  // Real I/O (the event log's file is closed last) needs turns of the event loop, not the mocked
  // clock: run them until close() is done, at most `limitMs` of real time (a bound, not a measure).
  const settle = async (limitMs: number) => {
    const until = performance.now() + limitMs;
    while (!closed && performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
  };
  await settle(200);
  assert.equal(closed, false, 'close() waits for the deliveries still in flight');
  t.mock.timers.tick(2_000);
  await settle(10_000);
  assert.equal(closed, true, 'both graces ran out together: one after the other, the second would still be waiting');
  await closing;
});
