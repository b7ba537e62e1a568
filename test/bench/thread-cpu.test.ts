/**
 * threadCpuSeconds reads each thread's CPU from /proc: the main thread under the pid, and a
 * worker thread that spins shows up under its own id with the time it spent. The spins are
 * measured in CPU, not wall time, so a busy machine only makes them take longer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { threadCpuSeconds } from '../../bench/lib/proc-stats.js';

/** The process's CPU seconds so far (all threads). */
function processCpu(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

test('a spinning worker thread is counted under its own thread id, the main thread under the pid', async () => {
  const before = threadCpuSeconds(process.pid);
  assert.ok(before.has(process.pid), 'the main thread is listed under the pid');
  const spinUntil = processCpu() + 0.1;
  while (processCpu() < spinUntil);
  const after = threadCpuSeconds(process.pid);
  assert.ok(after.get(process.pid)! - before.get(process.pid)! >= 0.05, 'the main thread spent most of the 100 ms of CPU');

  // The worker spins until the process has used 300 ms more CPU, while this thread only waits.
  const spinner = new Worker(
    "const { parentPort } = require('node:worker_threads'); const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }; const until = cpu() + 0.3; while (cpu() < until); parentPort.postMessage('spun'); setInterval(() => {}, 1000);",
    { eval: true },
  );
  try {
    await new Promise((resolve) => spinner.once('message', resolve));
    const spun = threadCpuSeconds(process.pid);
    // The worker's thread did not exist in `before`: all it spent is its own.
    const grown = [...spun].filter(([tid, cpu]) => tid !== process.pid && cpu - (before.get(tid) ?? 0) >= 0.2);
    assert.equal(grown.length, 1, 'one thread other than the main one spent most of the 300 ms');
  } finally {
    await spinner.terminate();
  }
});
