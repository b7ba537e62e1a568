/**
 * A cost alert fires, then the gateway restarts before its window drains. The new process has no
 * window for it: it resolves the alert at start-up (an emptied window, as the readiness policy
 * resolves one), and finance, which got the firing, gets the resolve; nothing stays open forever.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const TOKEN = 'admin-token-for-restart-alert-test';
let dir: string;
let finance: Server;
const financeBodies: Array<{ alert_id: string; status: string }> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-alert-'));
  finance = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    financeBodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alert_id: string; status: string });
    res.end();
  });
  await new Promise<void>((resolve) => finance.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await new Promise((resolve) => finance.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function start(options: { withFinance?: boolean } = {}): Promise<Stack> {
  return startStack({
    config: {
      // One US dollar per token: every request breaches the 0.5 USD threshold.
      models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', pricing: { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 }, maxCostUsd: 0.5 }],
      auth: { adminToken: TOKEN },
      governance: {
        eventLog: join(dir, 'events.jsonl'),
        enginePollMs: 0,
        ...(options.withFinance === false ? {} : { financeWebhookUrl: `http://127.0.0.1:${(finance.address() as AddressInfo).port}/finance` }),
        // A window far longer than the test: only the restart can end this alert.
        policy: { evaluateIntervalMs: 50, cost: { windowMs: 600_000, minRequests: 2 } },
      },
    },
  });
}

async function costAlerts(stack: Stack): Promise<Array<Extract<GovernanceEvent, { event: 'llm_observability_alert' }>>> {
  const res = await fetch(`${stack.url}/admin/events?type=llm_observability_alert&limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { events: Array<Extract<GovernanceEvent, { event: 'llm_observability_alert' }>> }).events.filter((e) => e.signal === 'cost');
}

test('an alert still firing when the gateway stopped is resolved by the next start, for finance too', async () => {
  const first = await start();
  let firing;
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${first.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3-8b', prompt: 'price this', max_tokens: 3 }) });
      assert.equal(res.status, 200);
    }
    await eventually(async () => (await costAlerts(first)).length === 1, 3000, 'the cost alert');
    firing = (await costAlerts(first))[0]!;
    assert.equal(firing.status, 'firing');
  } finally {
    await first.close();
  }
  assert.deepEqual(financeBodies.map((b) => [b.alert_id, b.status]), [[firing.alert_id, 'firing']]);

  const second = await start();
  try {
    const alerts = await costAlerts(second);
    assert.deepEqual(alerts.map((a) => [a.alert_id, a.status]), [[firing.alert_id, 'firing'], [firing.alert_id, 'resolved']]);
    const resolved = alerts[1]!;
    assert.deepEqual([resolved.value, resolved.requests, resolved.threshold, resolved.finance_webhook], [null, 0, 0.5, 'queued']);
    await eventually(() => financeBodies.length === 2, 3000, 'the resolve at finance');
    assert.deepEqual(financeBodies[1], { ...financeBodies[1], alert_id: firing.alert_id, status: 'resolved' });
  } finally {
    await second.close();
  }
  // A third start finds nothing left firing, and records nothing more.
  const third = await start();
  try {
    assert.equal((await costAlerts(third)).length, 2);
  } finally {
    await third.close();
  }
});

test("an alert left firing resolves after a restart that removed finance's webhook: recorded as not_configured, nothing fails", async () => {
  const first = await start();
  let firing;
  try {
    const firings = async (): Promise<number> => (await costAlerts(first)).filter((a) => a.status === 'firing').length;
    const before = await firings();
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${first.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3-8b', prompt: 'price this', max_tokens: 3 }) });
      assert.equal(res.status, 200);
    }
    await eventually(async () => (await firings()) === before + 1, 3000, 'a new cost alert');
    firing = (await costAlerts(first)).at(-1)!;
    assert.equal(firing.status, 'firing');
    assert.equal(firing.finance_webhook, 'queued');
  } finally {
    await first.close();
  }
  const second = await start({ withFinance: false });
  try {
    const resolved = (await costAlerts(second)).find((a) => a.alert_id === firing.alert_id && a.status === 'resolved');
    assert.ok(resolved, 'the alert is resolved at start-up');
    assert.equal(resolved.finance_webhook, 'not_configured');
    assert.deepEqual(second.logs.find('recording an observability alert failed'), []);
  } finally {
    await second.close();
  }
});
