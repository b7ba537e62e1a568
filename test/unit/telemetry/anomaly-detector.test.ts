import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnomalyDetector } from '../../../src/telemetry/anomaly-detector.js';

test('flags a value far outside the rolling window, and only after enough samples', () => {
  const seen: string[] = [];
  const d = new AnomalyDetector({ windowSize: 20, threshold: 3, minSamples: 10 }, (a) => seen.push(`${a.model}:${a.signal}`));
  for (let i = 0; i < 9; i += 1) d.observe('young', 'latency', 100 + (i % 2));
  assert.equal(d.observe('young', 'latency', 10_000), undefined, 'too few samples to judge');
  for (let i = 0; i < 15; i += 1) assert.equal(d.observe('m', 'latency', 100 + (i % 3)), undefined);
  const a = d.observe('m', 'latency', 500);
  assert.ok(a && a.zScore > 3);
  assert.deepEqual(seen, ['m:latency']);
  assert.equal(d.observe('other', 'latency', 500), undefined, 'windows are per model');
  assert.equal(d.list()[0]!.value, 500);
});

test('a constant signal has no anomalies (zero spread)', () => {
  const d = new AnomalyDetector({ windowSize: 10, threshold: 3, minSamples: 5 });
  for (let i = 0; i < 20; i += 1) assert.equal(d.observe('m', 'queue_delay', 7), undefined);
});

test('a request far faster than usual is no anomaly: both signals are waits', () => {
  const d = new AnomalyDetector({ windowSize: 20, threshold: 3, minSamples: 10 });
  for (let i = 0; i < 15; i += 1) d.observe('m', 'latency', 10_000 + (i % 3) * 100);
  assert.equal(d.observe('m', 'latency', 600), undefined);
  assert.deepEqual(d.list(), []);
});
