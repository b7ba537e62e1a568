/** The JIT warm-up every non-streamed path gets before it is measured (bench/lib/warm-up.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { warmUp, warmUpPlan } from '../../bench/lib/warm-up.js';

test('a full run warms with 10,000 requests, a quick one with 2,000', () => {
  assert.deepEqual(warmUpPlan({ quick: false }), { requests: 10_000, rate: 1_000 });
  assert.deepEqual(warmUpPlan({ quick: true }), { requests: 2_000, rate: 1_000 });
});

// The open-loop driver schedules rate × duration requests (its pacing is tested in
// open-loop-driver.test.ts), so the count checks the duration warmUp asks of it.
test('sends every planned request once and says how it went', async () => {
  const lines: string[] = [];
  const seen: number[] = [];
  await warmUp({ quick: true, log: (l) => lines.push(l) }, 'the test path', async (i) => {
    seen.push(i);
  }, { requests: 300, rate: 1_000 });
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));
  assert.match(lines[0]!, /^warming up the test path: 300 requests at 1,000 req\/s$/);
  assert.match(lines[1]!, /the test path warm in \d+\.\d s \(300 answered\)$/);
});

test('failures are reported with their messages, not thrown', async () => {
  const lines: string[] = [];
  await warmUp({ quick: true, log: (l) => lines.push(l) }, 'a failing path', async (i) => {
    if (i % 10 === 0) throw new Error('HTTP 503: overloaded');
  }, { requests: 100, rate: 2_000 });
  assert.match(lines[1]!, /\(90 answered, 10 failed: .*HTTP 503: overloaded/);
});
