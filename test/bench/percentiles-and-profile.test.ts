/**
 * The arithmetic behind the benchmark tables: nearest-rank percentiles, and self time per
 * function and per area from a .cpuprofile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeProfile, type CpuProfile } from '../../bench/lib/cpu-profile.js';
import { median, percentileOfSorted, summarize } from '../../bench/lib/percentiles.js';

test('nearest-rank percentiles are values that occurred', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentileOfSorted(hundred, 0.5), 50);
  assert.equal(percentileOfSorted(hundred, 0.99), 99);
  assert.equal(percentileOfSorted(hundred, 1), 100);
  assert.equal(percentileOfSorted(hundred, 0), 1);
  assert.equal(percentileOfSorted([7], 0.99), 7);
  assert.ok(Number.isNaN(percentileOfSorted([], 0.5)));
  // Ten samples: p99 is the largest, p50 the fifth.
  assert.equal(percentileOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99), 10);
  assert.equal(percentileOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5), 5);
});

test('summarize sorts numerically and reports count, mean and the tail', () => {
  const s = summarize([10, 9, 100, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(s.count, 11);
  assert.equal(s.p50, 6);
  assert.equal(s.p99, 100);
  assert.equal(s.max, 100);
  assert.equal(s.mean, 155 / 11);
  assert.equal(median([3, 1, 2]), 2);
  // Two rounds of 3.9 and 38.1 ms: the median is their mean, not the better round.
  assert.equal(median([38.1, 3.9]), 21);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.ok(Number.isNaN(summarize([]).p50));
});

test('a cpuprofile becomes self time per function and per area, idle and start-up left out', () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0 });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4, 5] },
      { id: 2, callFrame: frame('finish', 'file:///repo/dist/src/telemetry/request-observer.js'), children: [6] },
      { id: 3, callFrame: frame('(idle)', '') },
      { id: 4, callFrame: frame('(garbage collector)', '') },
      { id: 5, callFrame: frame('createCall', 'file:///repo/node_modules/@grpc/grpc-js/build/src/transport.js') },
      { id: 6, callFrame: frame('emit', 'node:events') },
    ],
    startTime: 0,
    endTime: 0,
    // Sample times: 100 µs apart; the first two (start-up) fall before sinceMs = 0.2 ms.
    samples: [5, 5, 2, 2, 2, 6, 3, 3, 4, 5],
    timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100],
  };
  const summary = summarizeProfile(profile, { sinceMs: 0.25 });
  assert.equal(summary.windowMs, 0.8);
  assert.equal(summary.idleMs, 0.2);
  assert.equal(summary.busyMs, 0.6);
  const byName = Object.fromEntries(summary.functions.map((f) => [f.name, f]));
  assert.equal(byName.finish!.selfMs, 0.3);
  assert.equal(byName.finish!.percent, 50);
  assert.equal(byName.finish!.where, 'dist/src/telemetry/request-observer.js:10');
  assert.equal(byName.finish!.area, 'src');
  assert.equal(byName.createCall!.area, '@grpc/grpc-js');
  assert.equal(byName.createCall!.selfMs, 0.1);
  assert.equal(byName.emit!.area, 'node internals');
  assert.deepEqual(Object.fromEntries(summary.areas.map((a) => [a.area, a.selfMs])), { src: 0.3, '@grpc/grpc-js': 0.1, gc: 0.1, 'node internals': 0.1 });
  assert.equal(summary.areas[0]!.area, 'src');
  assert.equal(summary.functions[0]!.name, 'finish');
});
