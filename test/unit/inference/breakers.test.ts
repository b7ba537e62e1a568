import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type CircuitBreaker from 'opossum';
import { BreakerBoard } from '../../../src/inference/breakers.js';
import { GatewayError } from '../../../src/errors.js';

const settings = { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 10_000, rollingWindowMs: 100 };

/** The opossum breaker behind the board's (target, model): its window is what these tests are about. */
function circuit(board: BreakerBoard, target: string, model: string): CircuitBreaker {
  const entries = (board as unknown as { entries: Map<string, { breaker: CircuitBreaker }> }).entries;
  return entries.get(`${target}\u0000${model}`)!.breaker;
}

const succeed = async () => ({ value: 'ok', ended: Promise.resolve() });
const failUpstream = async (): Promise<never> => {
  throw new GatewayError('upstream_unavailable', 'Triton is down', { upstreamFault: true });
};

test("a breaker keeps no per-call latencies, which opossum would sort on every failure, and takes no snapshots", async (t) => {
  const board = new BreakerBoard(settings);
  t.after(() => board.shutdown());
  for (let i = 0; i < 50; i++) await board.run('sim', 'm', succeed);
  const breaker = circuit(board, 'sim', 'm');
  let snapshots = 0;
  breaker.status.on('snapshot', () => snapshots++);
  assert.equal(breaker.stats.fires, 50, 'the calls went through this breaker');
  assert.deepEqual(breaker.stats.latencyTimes, []);
  // Three of its 10 ms buckets: opossum's default emits a snapshot, sorted latencies included, at each.
  await sleep(30);
  assert.equal(snapshots, 0);
});

test('the counts still open the breaker when upstream faults pass the threshold', async (t) => {
  const board = new BreakerBoard({ ...settings, rollingWindowMs: 10_000 });
  t.after(() => board.shutdown());
  for (let i = 0; i < 3; i++) await board.run('sim', 'm', succeed);
  for (let i = 0; i < 4; i++) await assert.rejects(board.run('sim', 'm', failUpstream), /Triton is down/);
  assert.equal(board.state('sim', 'm'), 'open');
  assert.deepEqual(
    board.list().map(({ fires, failures }) => ({ fires, failures })),
    [{ fires: 7, failures: 4 }],
  );
});
