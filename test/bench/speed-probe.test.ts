/**
 * The machine-speed probe: a child process that times a fixed workload by its CPU time and
 * prints one sample per interval; phases summarise the samples that fall inside them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseSpeedLine, startSpeedProbe, summarizeSpeed, type SpeedSample } from '../../bench/lib/speed-probe.js';
import { processAlive as alive } from '../helpers/process-alive.js';

test('a window summarises only the samples taken inside it: median, min, max and count', () => {
  const samples: SpeedSample[] = [
    { at: 1_000, nsPerOp: 30 },
    { at: 2_000, nsPerOp: 9 },
    { at: 3_000, nsPerOp: 7 },
    { at: 4_000, nsPerOp: 12 },
    { at: 5_000, nsPerOp: 8 },
    { at: 6_000, nsPerOp: 40 },
  ];
  assert.deepEqual(summarizeSpeed(samples, 2_000, 5_000), { nsPerOp: 8.5, min: 7, max: 12, samples: 4 });
  assert.deepEqual(summarizeSpeed(samples), { nsPerOp: 10.5, min: 7, max: 40, samples: 6 });
  assert.equal(summarizeSpeed(samples, 6_001, 9_000), undefined);
});

test('only sample lines are samples: the ready line and anything else are not', () => {
  assert.deepEqual(parseSpeedLine('1764000000123 7.412'), { at: 1764000000123, nsPerOp: 7.412 });
  assert.deepEqual(parseSpeedLine('1764000000123 14\n'), { at: 1764000000123, nsPerOp: 14 });
  assert.equal(parseSpeedLine('speed-probe ready every_ms=250 ops=100000'), undefined);
  assert.equal(parseSpeedLine('1764000000123'), undefined);
  assert.equal(parseSpeedLine(''), undefined);
});

test('the probe samples in a process of its own, a window sees the samples since it opened, and close stops it', async () => {
  const probe = await startSpeedProbe({ everyMs: 20 });
  try {
    assert.notEqual(probe.pid, process.pid);
    assert.ok(alive(probe.pid));
    // Samples come from the child; wait until a few exist rather than for a fixed time.
    for (let waited = 0; (probe.all()?.samples ?? 0) < 3 && waited < 10_000; waited += 20) await sleep(20);
    const before = probe.all();
    assert.ok(before && before.samples >= 3, 'the probe printed samples');
    assert.ok(before.nsPerOp > 0 && before.min <= before.nsPerOp && before.nsPerOp <= before.max);

    const window = probe.window();
    for (let waited = 0; (probe.all()?.samples ?? 0) < before.samples + 3 && waited < 10_000; waited += 20) await sleep(20);
    const inside = window.stop();
    assert.ok(inside, 'samples fell inside the window');
    const all = probe.all()!;
    assert.ok(inside.samples >= 2 && inside.samples < all.samples, `window ${inside.samples} of ${all.samples} samples`);
  } finally {
    await probe.close();
  }
  assert.equal(alive(probe.pid), false);
});
