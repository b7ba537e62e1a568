import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Anomaly } from '../../../src/telemetry/anomaly-detector.js';
import { AnomalyWarnings } from '../../../src/telemetry/anomaly-warnings.js';

const anomaly = (model: string, signal: Anomaly['signal'], value: number): Anomaly => ({ at: '', model, signal, value, mean: 1, stddev: 1, zScore: value - 1 });

test('warns once per model and signal per interval, then says how many it left out', () => {
  let now = 0;
  const logged: string[] = [];
  const w = new AnomalyWarnings(10_000, (a, suppressed) => logged.push(`${a.model}/${a.signal}=${a.value} suppressed=${suppressed}`), () => now);
  w.report(anomaly('m', 'latency', 5));
  now = 1_000;
  w.report(anomaly('m', 'latency', 6));
  w.report(anomaly('m', 'latency', 7));
  w.report(anomaly('m', 'queue_delay', 8)); // another signal: its own interval
  w.report(anomaly('other', 'latency', 9)); // another model: its own interval
  now = 10_000;
  w.report(anomaly('m', 'latency', 10));
  now = 12_000;
  w.report(anomaly('m', 'latency', 11));
  assert.deepEqual(logged, [
    'm/latency=5 suppressed=0',
    'm/queue_delay=8 suppressed=0',
    'other/latency=9 suppressed=0',
    'm/latency=10 suppressed=2',
  ]);
});

test('an interval of 0 warns for every anomaly', () => {
  const logged: number[] = [];
  const w = new AnomalyWarnings(0, (a) => logged.push(a.value), () => 5);
  for (const v of [1, 2, 3]) w.report(anomaly('m', 'latency', v));
  assert.deepEqual(logged, [1, 2, 3]);
});
