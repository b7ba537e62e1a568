/**
 * Warm-ups of one model are single-flight: re-warms of a failing model (admin, engine poll,
 * rollback) join or replace the registry's one retry loop instead of adding loops, so the
 * warm-up rate against a failing engine stays flat and one recovery is recorded once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { eventually, startStack } from '../helpers/stack.js';

const TOKEN = 'admin-token-for-single-flight-tests';

test('repeated re-warms of a failing model do not multiply its warm-ups; one recovery records one llm_warmup_completed', async (t) => {
  const stack = await startStack({
    sim: { models: [{ name: 'qwen3-vllm', flavour: 'vllm', fault: { kind: 'error', code: 'INTERNAL', message: 'engine broken' } }] },
    // A 1-2 s retry: one loop makes at most ~4 warm-ups in the 4 s window below.
    config: { models: [{ name: 'qwen3', tritonModel: 'qwen3-vllm' }], auth: { adminToken: TOKEN }, triton: { warmupRetryMinMs: 2000, warmupRetryMaxMs: 2000 } },
    waitReady: false,
  });
  t.after(() => stack.close());
  const registry = stack.app.services.registry;
  await eventually(() => registry.get('qwen3')?.state === 'warmup_failed', 5000, 'the first warm-up to fail');

  const warmups = (): number => stack.sim.received().filter((r) => r.model === 'qwen3-vllm').length;
  for (let i = 0; i < 6; i += 1) {
    const res = await fetch(`${stack.url}/admin/models/qwen3/warmup`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 503);
  }
  // Concurrent re-warms (engine poll and rollback racing the admin) share one run.
  await Promise.all([registry.rewarm('qwen3'), registry.rewarm('qwen3'), registry.rewarm('qwen3')]);
  const before = warmups();
  await new Promise((r) => setTimeout(r, 4000));
  const during = warmups() - before;
  assert.ok(during <= 5, `one retry loop makes at most ~4 warm-ups in 4 s; saw ${during}`);

  stack.sim.clearFaults();
  await eventually(() => registry.get('qwen3')?.state === 'ready', 5000, 'the model to recover');
  await new Promise((r) => setTimeout(r, 2500));
  const res = await fetch(`${stack.url}/admin/events?limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const events = ((await res.json()) as { events: GovernanceEvent[] }).events;
  assert.equal(events.filter((e) => e.event === 'llm_warmup_completed').length, 1);
});
