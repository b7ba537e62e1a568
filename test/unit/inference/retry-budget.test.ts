import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RetryBudget } from '../../../src/inference/retry-budget.js';

test('retries are capped at a share of recent requests, with a small floor', () => {
  const b = new RetryBudget({ ratio: 0.1, minPerWindow: 2, windowMs: 10_000 });
  const t0 = 1_000_000;
  for (let i = 0; i < 50; i += 1) b.recordRequest('m', t0);
  const granted = Array.from({ length: 10 }, () => b.tryAcquire('m', t0)).filter(Boolean).length;
  assert.equal(granted, 5, '10% of 50 requests');
  assert.equal(b.tryAcquire('other', t0), true, 'budgets are per model; the floor allows a first retry');
  // After the window passes, the budget refills.
  for (let i = 0; i < 50; i += 1) b.recordRequest('m', t0 + 11_000);
  assert.equal(b.tryAcquire('m', t0 + 11_000), true);
});

test('requests older than the window stop paying for retries: a quiet window grants only the floor', () => {
  const b = new RetryBudget({ ratio: 0.5, minPerWindow: 2, windowMs: 10_000 });
  const t0 = 1_000_000;
  // 100 requests would buy 50 retries while they are recent.
  for (let i = 0; i < 100; i += 1) b.recordRequest('m', t0);
  assert.equal(b.tryAcquire('m', t0), true);
  // A full window later, with no request since: the burst no longer counts, only the floor is left.
  const later = t0 + 10_000 + 1_000;
  const granted = Array.from({ length: 10 }, () => b.tryAcquire('m', later)).filter(Boolean).length;
  assert.equal(granted, 2, 'minPerWindow, not a share of the old burst');
});
