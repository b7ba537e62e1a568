/**
 * threadCpuSeconds reads each thread's CPU from /proc: the main thread under the pid, and a
 * worker thread that spins shows up under its own id with the time it spent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { threadCpuSeconds } from '../../bench/lib/proc-stats.js';

test('a spinning worker thread is counted under its own thread id, the main thread under the pid', async () => {
  const before = threadCpuSeconds(process.pid);
  assert.ok(before.has(process.pid), 'the main thread is listed under the pid');
  const spinEnd = Date.now() + 100;
  while (Date.now() < spinEnd);
  const after = threadCpuSeconds(process.pid);
  assert.ok(after.get(process.pid)! - before.get(process.pid)! >= 0.05, 'the main thread spent its 100 ms');

  const alive = new Worker(
    "const { parentPort } = require('node:worker_threads'); const end = Date.now() + 300; while (Date.now() < end); parentPort.postMessage('spun'); setInterval(() => {}, 1000);",
    { eval: true },
  );
  try {
    await new Promise((resolve) => alive.once('message', resolve));
    const spun = threadCpuSeconds(process.pid);
    // The worker's thread did not exist in `before`: all it spent is its own.
    const grown = [...spun].filter(([tid, cpu]) => tid !== process.pid && cpu - (before.get(tid) ?? 0) >= 0.2);
    assert.equal(grown.length, 1, 'one thread other than the main one spent the 300 ms');
  } finally {
    await alive.terminate();
  }
});
