/**
 * bench/allocation.ts reads V8's --trace-gc-nvp lines out of a gateway log that also holds the
 * gateway's JSON lines: scavenges and mark-compacts must be told apart and summed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sumGcTrace, sumGcTraceByIsolate } from '../../bench/lib/gc-trace.js';

const log = [
  '[23485:0xee2de90]       81 ms: pause=1.5 mutator=76.3 gc=s reduce_memory=0 scavenge=1.28 scavenge.parallel=1.12 allocated=14234672 promoted=1967224 new_space_survived=2144848 nodes_promoted=10',
  '{"level":"info","time":"2026-11-23T21:42:16.404Z","service":"triton-gateway","msg":"request completed","gc":"s","pause":99}',
  '[23485:0xee2de90]      512 ms: pause=12.2 mutator=72.4 gc=mc reduce_memory=0 incremental.finalize=0.3 allocated=1000000 promoted=777 semi_space_copied=0',
  '[23485:0xee2de90]      700 ms: pause=6.5 mutator=150.0 gc=s reduce_memory=0 scavenge=6.4 allocated=10000000 promoted=32776',
  '',
].join('\n');

test('sums scavenges and mark-compacts separately, ignoring the JSON log lines', () => {
  assert.deepEqual(sumGcTrace(log), {
    allocated: 14234672 + 1000000 + 10000000,
    promoted: 1967224 + 32776,
    scavenges: 2,
    scavengePauseMs: 1.5 + 6.5,
    maxPauseMs: 12.2,
    markCompacts: 1,
  });
});

test("only the isolate that allocated the most is summed: a worker thread's GCs stay out", () => {
  const worker = [
    '[23485:0x7f00a8000b70]      600 ms: pause=0.4 mutator=10.0 gc=s reduce_memory=0 allocated=2000000 promoted=500000',
    '[23485:0x7f00a8000b70]      640 ms: pause=0.3 mutator=10.0 gc=s reduce_memory=0 allocated=2000000 promoted=400000',
  ];
  const lines = log.split('\n');
  const mixed = [lines[0], worker[0], lines[1], lines[2], worker[1], lines[3]].join('\n');
  assert.deepEqual(sumGcTrace(mixed), sumGcTrace(log));
  assert.equal(sumGcTraceByIsolate(mixed).get('0x7f00a8000b70')?.scavenges, 2);
});

test('an empty or GC-free log sums to zero', () => {
  assert.deepEqual(sumGcTrace('{"level":"info"}\n'), { allocated: 0, promoted: 0, scavenges: 0, scavengePauseMs: 0, maxPauseMs: 0, markCompacts: 0 });
});
