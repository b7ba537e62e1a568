/**
 * The readiness policy's window arithmetic and deduplication, on a clock the test moves.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadinessPolicy, type AlertTransition } from '../../../src/governance/readiness-policy.js';

function setup(thresholds = { cost: 0.01, queueDelay: 1500 }) {
  let now = 1_000_000;
  const out: AlertTransition[] = [];
  const policy = new ReadinessPolicy(
    { cost: { windowMs: 60_000, minRequests: 3 }, queueDelay: { windowMs: 10_000, minRequests: 2 } },
    (model) => (model === 'unpriced' ? {} : thresholds),
    (t) => out.push(t),
    () => now,
  );
  return { policy, out, advance: (ms: number) => (now += ms) };
}

test('fires once when the window mean crosses the threshold with enough requests, then stays quiet', () => {
  const { policy, out } = setup();
  policy.observe({ model: 'm', costUsd: 0.05 });
  policy.observe({ model: 'm', costUsd: 0.05 });
  assert.equal(out.length, 0, 'fewer than minRequests');
  policy.observe({ model: 'm', costUsd: 0.05 });
  assert.equal(out.length, 1);
  assert.equal(out[0]!.status, 'firing');
  assert.equal(out[0]!.signal, 'cost');
  assert.equal(out[0]!.requests, 3);
  assert.ok(Math.abs(out[0]!.value! - 0.05) < 1e-12);
  for (let i = 0; i < 20; i++) policy.observe({ model: 'm', costUsd: 0.05 });
  policy.evaluate();
  assert.equal(out.length, 1, 'no repeat while firing');
});

test('resolves with the same alert id when the mean drops to the threshold, and can fire again later', () => {
  const { policy, out } = setup();
  for (let i = 0; i < 3; i++) policy.observe({ model: 'm', costUsd: 0.02 });
  assert.equal(out.length, 1);
  // Mean of 0.02 ×3 and 0.0 ×3 is 0.01: at the threshold counts as back to normal.
  for (let i = 0; i < 3; i++) policy.observe({ model: 'm', costUsd: 0 });
  assert.equal(out.length, 2);
  assert.equal(out[1]!.status, 'resolved');
  assert.equal(out[1]!.alertId, out[0]!.alertId);
  for (let i = 0; i < 30; i++) policy.observe({ model: 'm', costUsd: 0.1 });
  assert.equal(out.length, 3);
  assert.equal(out[2]!.status, 'firing');
  assert.notEqual(out[2]!.alertId, out[0]!.alertId);
});

test('a window that drains without traffic resolves on evaluate()', () => {
  const { policy, out, advance } = setup();
  policy.observe({ model: 'm', queueDelayUs: 5000 });
  policy.observe({ model: 'm', queueDelayUs: 4000 });
  assert.deepEqual(out.map((t) => [t.signal, t.status, t.value]), [['queue_delay', 'firing', 4500]]);
  advance(5_000);
  policy.evaluate();
  assert.equal(out.length, 1, 'still inside the window');
  advance(6_000);
  policy.evaluate();
  assert.deepEqual(out.map((t) => [t.signal, t.status, t.value, t.requests]).at(-1), ['queue_delay', 'resolved', null, 0]);
});

test('signals and models are independent; a model without a threshold is not tracked', () => {
  const { policy, out } = setup();
  for (let i = 0; i < 3; i++) {
    policy.observe({ model: 'a', costUsd: 1, queueDelayUs: 10 });
    policy.observe({ model: 'b', costUsd: 0.001, queueDelayUs: 9000 });
    policy.observe({ model: 'unpriced', costUsd: 5, queueDelayUs: 1e9 });
  }
  assert.deepEqual(out.map((t) => `${t.model}:${t.signal}`).sort(), ['a:cost', 'b:queue_delay']);
  assert.deepEqual(policy.firing().map((f) => `${f.model}:${f.signal}`).sort(), ['a:cost', 'b:queue_delay']);
});

test('memory stays bounded by the window buckets, not by the number of requests', () => {
  const { policy, out, advance } = setup({ cost: 0.01, queueDelay: 1_000_000 });
  // 40 s of 500 req/s for the 10 s queue-delay window: 20,000 samples.
  for (let i = 0; i < 20_000; i++) {
    policy.observe({ model: 'm', queueDelayUs: 10 });
    advance(2);
  }
  const series = (policy as unknown as { series: Map<string, { buckets: unknown[]; count: number }> }).series;
  const s = [...series.values()][0]!;
  assert.ok(s.buckets.length <= 61, `${s.buckets.length} buckets`);
  // 10 s of 2 ms steps, give or take one bucket (1/60 of the window).
  assert.ok(s.count >= 5_000 && s.count <= 5_084, `${s.count} samples in the window`);
  assert.equal(out.length, 0);
});
