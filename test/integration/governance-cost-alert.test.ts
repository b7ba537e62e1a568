/**
 * The readiness policy on real traffic: pricing turns each completion's usage into a cost, the
 * mean over the window breaches maxCostUsd, and llm_observability_alert fires once (not once per
 * request), goes to the finance webhook (a local receiver that fails its first call, so the
 * delivery is retried), and resolves when the window drains. A waiver recorded through the admin
 * API is in the event log and keeps the next cost alert away from finance. Queue delay from
 * Triton's perf metrics breaches its budget the same way (no finance call for that signal).
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

const TOKEN = 'admin-token-for-cost-alert-test';
let stack: Stack;
let dir: string;
let finance: Server;
const financeCalls: Array<{ status: number; key: string | undefined; body: Record<string, unknown> }> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cost-alert-'));
  finance = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    // The first delivery fails: the notifier must retry it.
    const status = financeCalls.length === 0 ? 503 : 200;
    financeCalls.push({ status, key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    res.statusCode = status;
    res.end();
  });
  await new Promise<void>((resolve) => finance.listen(0, '127.0.0.1', resolve));
  stack = await startStack({
    sim: { models: [{ name: 'llama-3-8b-trtllm', flavour: 'ensemble', latency: { queueDelayMs: 4 } }] },
    config: {
      models: [
        {
          name: 'llama-3-8b',
          tritonModel: 'llama-3-8b-trtllm',
          // One US dollar per token: every request costs several dollars.
          pricing: { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 },
          maxCostUsd: 0.5,
          queueDelayBudgetUs: 1000,
        },
      ],
      auth: { adminToken: TOKEN },
      governance: {
        eventLog: join(dir, 'events.jsonl'),
        enginePollMs: 0,
        financeWebhookUrl: `http://127.0.0.1:${(finance.address() as AddressInfo).port}/finance`,
        webhookBackoffMs: 20,
        policy: { evaluateIntervalMs: 50, cost: { windowMs: 1500, minRequests: 2 }, queueDelay: { windowMs: 1500, minRequests: 2 } },
      },
    },
  });
});
after(async () => {
  await stack?.close();
  await new Promise((resolve) => finance.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function complete(): Promise<number> {
  const res = await fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3-8b', prompt: 'price this please', max_tokens: 4 }) });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
  return body.usage.prompt_tokens + body.usage.completion_tokens;
}

type Alert = Extract<GovernanceEvent, { event: 'llm_observability_alert' }>;
async function alerts(signal: 'cost' | 'queue_delay'): Promise<Alert[]> {
  const res = await fetch(`${stack.url}/admin/events?type=llm_observability_alert&limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { events: Alert[] }).events.filter((e) => e.signal === signal);
}

test('a cost breach fires one alert, reaches finance after a retry, and resolves when the window drains', async () => {
  const costs: number[] = [];
  for (let i = 0; i < 5; i++) costs.push(await complete());
  await eventually(async () => (await alerts('cost')).length > 0, 3000, 'the cost alert');
  const [firing, ...rest] = await alerts('cost');
  assert.equal(rest.length, 0, 'five breaching requests, one alert');
  assert.equal(firing!.status, 'firing');
  assert.equal(firing!.model, 'llama-3-8b');
  assert.equal(firing!.threshold, 0.5);
  assert.equal(firing!.unit, 'usd_per_request');
  assert.equal(firing!.finance_webhook, 'queued');
  // It fired on the second request, with the mean of the first two.
  assert.equal(firing!.requests, 2);
  assert.ok(Math.abs(firing!.value! - (costs[0]! + costs[1]!) / 2) < 1e-9, `${firing!.value} vs ${costs}`);

  await eventually(() => financeCalls.some((c) => c.status === 200), 3000, 'finance delivery');
  assert.deepEqual(financeCalls.slice(0, 2).map((c) => c.status), [503, 200]);
  assert.equal(financeCalls[1]!.key, firing!.id);
  assert.equal(financeCalls[1]!.body.alert_id, firing!.alert_id);
  assert.equal(financeCalls[1]!.body.signal, 'cost');

  await eventually(async () => (await alerts('cost')).length === 2, 4000, 'the resolve');
  const resolved = (await alerts('cost'))[1]!;
  assert.equal(resolved.status, 'resolved');
  assert.equal(resolved.alert_id, firing!.alert_id);
  assert.equal(resolved.value, null);
});

test('queue delay over its budget fires its own alert, without a finance call', async () => {
  const q = await alerts('queue_delay');
  assert.ok(q.length >= 1);
  assert.equal(q[0]!.status, 'firing');
  assert.equal(q[0]!.unit, 'microseconds');
  assert.ok(q[0]!.value! > 1000, `mean queue delay ${q[0]!.value}`);
  assert.equal(q[0]!.finance_webhook, 'not_applicable');
  assert.ok(financeCalls.every((c) => c.body.signal === 'cost'));
});

test('a waiver is recorded through the admin API and keeps the next cost alert away from finance', async () => {
  const bad = await fetch(`${stack.url}/admin/waivers`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'nope', signal: 'cost', reason: 'x'.repeat(5), expires_in_minutes: 5 }) });
  assert.equal(bad.status, 404);
  const res = await fetch(`${stack.url}/admin/waivers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-actor': 'carol' },
    body: JSON.stringify({ model: 'llama-3-8b', signal: 'cost', reason: 'launch week spend approved by finance', expires_in_minutes: 60 }),
  });
  assert.equal(res.status, 201);
  const waiver = ((await res.json()) as { waiver: Extract<GovernanceEvent, { event: 'llm_waiver_recorded' }> }).waiver;
  assert.equal(waiver.actor, 'carol');
  const logged = await fetch(`${stack.url}/admin/events?type=llm_waiver_recorded`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.deepEqual(((await logged.json()) as { events: Array<{ waiver_id: string }> }).events.map((e) => e.waiver_id), [waiver.waiver_id]);

  const financeBefore = financeCalls.length;
  await complete();
  await complete();
  await eventually(async () => (await alerts('cost')).length === 3, 3000, 'the second cost alert');
  const again = (await alerts('cost'))[2]!;
  assert.equal(again.status, 'firing');
  assert.equal(again.waiver_id, waiver.waiver_id);
  assert.equal(again.finance_webhook, 'waived');
  // Give a (wrong) delivery time to happen before asserting it did not.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(financeCalls.length, financeBefore);
});
