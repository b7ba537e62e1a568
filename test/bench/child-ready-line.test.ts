/**
 * spawnNodeUntilReady, which starts the benchmark's child programs (simulator, OTLP receiver, bare
 * relay): the fields of the ready line come back; an exit before it, or a line without a field,
 * throws with the child's stderr and leaves no child running.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeFlagList, spawnNodeUntilReady } from '../../bench/lib/processes.js';

test('node flags given as one string become argv entries (BENCH_*_NODE_FLAGS, compare.ts)', () => {
  assert.deepEqual(nodeFlagList(' --cpu-prof  --cpu-prof-dir /tmp/p\t--trace-gc '), ['--cpu-prof', '--cpu-prof-dir', '/tmp/p', '--trace-gc']);
  assert.deepEqual(nodeFlagList(''), []);
  assert.deepEqual(nodeFlagList(undefined), []);
});

test('returns the asked-for fields of the first stdout line', async () => {
  const { child, fields } = await spawnNodeUntilReady(['-e', 'console.log("x ready url=http://127.0.0.1:1 other=2"); setInterval(() => {}, 1000)'], 'x', ['url', 'other']);
  try {
    assert.deepEqual(fields, { url: 'http://127.0.0.1:1', other: '2' });
  } finally {
    child.kill('SIGKILL');
  }
});

test('an exit before the ready line throws with the end of stderr', async () => {
  await assert.rejects(spawnNodeUntilReady(['-e', 'console.error("cannot bind"); process.exit(3)'], 'x', ['url']), /x exited before it was ready:\s+cannot bind/);
});

test('a ready line without a field stops the child and says which field', async () => {
  let pid: number | undefined;
  await assert.rejects(
    spawnNodeUntilReady(['-e', 'console.log("pid=" + process.pid + " ready"); setInterval(() => {}, 1000)'], 'x', ['pid', 'url']).catch((err: Error) => {
      pid = Number(/pid=(\d+)/.exec(err.message)?.[1]);
      throw err;
    }),
    /unexpected ready line from x \(no url=\)/,
  );
  assert.ok(pid && pid > 0);
  assert.throws(() => process.kill(pid!, 0), { code: 'ESRCH' }, 'the child is still running');
});
