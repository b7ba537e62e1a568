/**
 * The time-to-first-token and idle timers time Triton's silence, not the consumer's: a client
 * that reads slowly holds the relay between tokens (the SSE writer waits for `drain`), and that
 * wait must not become `upstream_idle_timeout`, cancel a healthy Triton call or count against the
 * breaker. Loopback socket buffers hold tens of megabytes, so the slow consumer here is the
 * gateway's own router driven directly: its generation is read with pauses longer than the timers.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptObserver, InferenceObserver } from '../../src/inference/observer.js';
import type { GenerationDelta } from '../../src/triton/types.js';
import { startStack, type Stack } from '../helpers/stack.js';

const timerMs = 200;
let stack: Stack;
before(async () => {
  stack = await startStack({
    config: { models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', maxTokens: 64, deadlines: { idleMs: timerMs, ttftMs: timerMs } }] },
    sim: { latency: { timeToFirstTokenMs: 5, timePerTokenMs: 5 } },
  });
});
after(async () => stack.close());

/** Records what the router reports; the observer is the core's outbound port, not the code under test. */
function recordingObserver(): InferenceObserver & { attemptErrors: string[] } {
  const attemptErrors: string[] = [];
  const attempt: AttemptObserver = { metadata: undefined, firstResponse: () => undefined, end: (err) => void (err && attemptErrors.push(err.code)) };
  return {
    attemptErrors,
    attemptStarted: () => attempt,
    fallback: () => undefined,
    retry: () => undefined,
    retryBudgetExhausted: () => undefined,
    served: () => undefined,
    perf: () => undefined,
    usage: () => undefined,
    tokenBudgetOverrun: () => undefined,
    event: () => undefined,
  };
}

/** Streams 12 tokens through the router, holding each of the first three responses for `holdMs`. */
async function readSlowly(holdMs: number) {
  const observer = recordingObserver();
  const entry = stack.app.services.registry.get('llama-3-8b')!;
  const request = { prompt: 'tell me a story', maxTokens: 12, stream: true, echo: false, temperature: 0 };
  const deltas: GenerationDelta[] = [];
  const generation = await stack.app.services.router.run({ entry, request, signal: new AbortController().signal, observer }, async (g) => g);
  for await (const delta of generation.deltas) {
    deltas.push(delta);
    if (deltas.length <= 3) await sleep(holdMs);
  }
  await generation.ended;
  return { deltas, observer };
}

test('a consumer that holds each token longer than the idle timeout still gets the whole stream', async () => {
  const cancelledBefore = stack.sim.state().models['llama-3-8b-trtllm']!.cancellations;
  const { deltas, observer } = await readSlowly(timerMs * 3);
  assert.equal(deltas.at(-1)?.final, true);
  assert.equal(deltas.reduce((n, d) => n + (d.outputTokens ?? 0), 0), 12);
  assert.deepEqual(observer.attemptErrors, []);
  const breaker = stack.app.services.breakers.list().find((b) => b.model === 'llama-3-8b-trtllm');
  assert.ok(breaker, 'the breaker of the model the stream used');
  assert.equal(breaker.failures, 0);
  assert.equal(stack.sim.state().models['llama-3-8b-trtllm']!.cancellations, cancelledBefore);
});

test('a Triton that goes quiet mid-stream still times out while the consumer is waiting', async () => {
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'stall', afterTokens: 2 });
  try {
    await assert.rejects(readSlowly(0), (err: { code?: string }) => err.code === 'upstream_idle_timeout');
  } finally {
    stack.sim.clearFaults();
  }
});
