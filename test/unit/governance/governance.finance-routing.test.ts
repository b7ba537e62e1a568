/**
 * Cost alerts and the finance webhook: whether finance hears of an alert is decided when it
 * fires. A waiver recorded while it fires (what the runbook asks for) still lets its resolve
 * through, so finance's alert does not stay open; a waiver that expires while it fires does not
 * send finance a resolve for an alert it never got. A real Governance, a real local receiver.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../../src/config.js';
import type { GovernanceEvent } from '../../../src/governance/events.js';
import { Governance } from '../../../src/governance/governance.js';

const WINDOW_MS = 300;
/** The clock of waiver expiry and the cost window: stepped by the tests, never waited for. */
let clock = Date.now();
let dir: string;
let receiver: Server;
const received: Array<{ status: string; alert_id: string }> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'finance-routing-'));
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status: string; alert_id: string });
    res.end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function governance(model: string): Promise<Governance> {
  const config = parseConfig({
    triton: { targets: [{ name: 'primary', grpc: '127.0.0.1:1' }] },
    models: [{ name: model, maxCostUsd: 0.5 }],
    governance: {
      eventLog: join(dir, `${model}.jsonl`),
      financeWebhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/finance`,
      webhookBackoffMs: 10,
      enginePollMs: 0,
      policy: { evaluateIntervalMs: 60_000, cost: { windowMs: WINDOW_MS, minRequests: 1 } },
    },
  });
  return Governance.create(config, pino({ level: 'silent' }), () => clock);
}

type Alert = Extract<GovernanceEvent, { event: 'llm_observability_alert' }>;
async function alerts(g: Governance, count: number): Promise<Alert[]> {
  for (let i = 0; i < 100; i++) {
    const events = (await g.events({ type: 'llm_observability_alert' })).events as Alert[];
    if (events.length >= count) return events;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`expected ${count} alert events`);
}

/** Moves the clock past the cost window, so the next evaluation resolves the alert. */
function drain(g: Governance): void {
  clock += WINDOW_MS + 100;
  g.policy.evaluate();
}

test('a waiver recorded while a cost alert fires does not keep its resolve from finance', async () => {
  const g = await governance('waived-meanwhile');
  g.policy.observe({ model: 'waived-meanwhile', costUsd: 2 });
  const [firing] = await alerts(g, 1);
  assert.equal(firing!.finance_webhook, 'queued');

  await g.recordWaiver({ model: 'waived-meanwhile', signal: 'cost', reason: 'accepted spend', actor: 'alice', expiresAt: new Date(clock + 3_600_000) });
  drain(g);
  const [, resolved] = await alerts(g, 2);
  assert.equal(resolved!.status, 'resolved');
  assert.equal(resolved!.finance_webhook, 'queued', 'the resolve follows its firing');
  const toFinance = () => received.filter((r) => r.alert_id === firing!.alert_id).map((r) => r.status);
  for (let i = 0; i < 100 && toFinance().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  await g.close();
  assert.deepEqual(toFinance(), ['firing', 'resolved']);
});

test('a waiver that expires while a cost alert fires does not send finance a resolve it never had the firing of', async () => {
  const g = await governance('waiver-expired');
  await g.recordWaiver({ model: 'waiver-expired', signal: 'cost', reason: 'accepted spend', actor: 'alice', expiresAt: new Date(clock + 150) });
  g.policy.observe({ model: 'waiver-expired', costUsd: 2 });
  const [firing] = await alerts(g, 1);
  assert.equal(firing!.finance_webhook, 'waived');

  drain(g); // the waiver (150 ms) expires with the window
  const [, resolved] = await alerts(g, 2);
  assert.equal(resolved!.status, 'resolved');
  assert.equal(resolved!.waiver_id, null, 'the waiver had expired');
  assert.equal(resolved!.finance_webhook, 'waived');
  // close() waits for the finance webhook's queue to drain: a (wrong) delivery would have landed.
  await g.close();

  assert.deepEqual(received.filter((r) => r.alert_id === firing!.alert_id), []);
});
