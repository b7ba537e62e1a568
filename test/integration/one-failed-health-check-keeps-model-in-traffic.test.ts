/**
 * Health-check hysteresis: one ModelReady call that fails (a deadline, a reset, UNAVAILABLE) does
 * not take a ready model out of traffic; a run of them does, and the model comes back once
 * Triton answers again; failures with a good check between them do not add up. The simulator
 * fails the calls itself (a `model-ready-error` fault).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { eventually, startStack } from '../helpers/stack.js';

/** A one-model stack whose model's state is sampled every 10 ms, and a way to fail its next health checks. */
async function watchedModel(t: TestContext) {
  const stack = await startStack({ sim: { models: [{ name: 'qwen3-vllm', flavour: 'vllm' }] }, config: { models: [{ name: 'qwen3', tritonModel: 'qwen3-vllm' }] } });
  t.after(() => stack.close());
  const entry = stack.app.services.registry.get('qwen3')!;
  const states: string[] = [];
  const watch = setInterval(() => states.push(entry.state), 10);
  t.after(() => clearInterval(watch));
  return {
    stack,
    entry,
    /** ModelReady calls the simulator has answered since the last failHealthChecks(). */
    modelReadyCalls: (): number => stack.sim.state().models['qwen3-vllm']!.faultSeen,
    failHealthChecks: (firstN: number) => stack.sim.setFault('qwen3-vllm', { kind: 'model-ready-error', code: 'UNAVAILABLE', message: 'connection reset by peer', firstN }),
    assertAlwaysReady: () => assert.ok(states.every((s) => s === 'ready'), `the model left traffic: ${[...new Set(states)].join(', ')}`),
    statesSeen: (): string[] => [...new Set(states)],
  };
}

test('one failed ModelReady keeps the model ready; consecutive failures take it out', async (t) => {
  const { stack, entry, modelReadyCalls, failHealthChecks, assertAlwaysReady } = await watchedModel(t);
  failHealthChecks(1);
  // The failed check, then three more health sweeps (200 ms apart) that succeed.
  await eventually(() => modelReadyCalls() >= 4, 5000, 'the failed health check and three good ones');
  assertAlwaysReady();
  assert.equal((await complete(stack.url, { model: 'qwen3', prompt: 'hi', max_tokens: 2 })).status, 200);

  failHealthChecks(3);
  await eventually(() => entry.state !== 'ready', 5000, 'three failed health checks to take the model out');
  await eventually(() => entry.state === 'ready', 8000, 'the model to come back');
});

test('failed health checks with a good one between them never add up to taking the model out', async (t) => {
  const { stack, entry, modelReadyCalls, failHealthChecks, assertAlwaysReady } = await watchedModel(t);
  // As many failures as take a model out when consecutive (the first test's last step), each
  // followed by a sweep that succeeds.
  for (let round = 1; round <= 3; round += 1) {
    failHealthChecks(1);
    await eventually(() => modelReadyCalls() >= 2, 5000, `failed health check ${round} and a good one after it`);
  }
  assert.deepEqual(stack.logs.find('model left service'), [], 'the model never left service');
  assertAlwaysReady();
  assert.equal(entry.state, 'ready');
});

test("Triton answering that it has no version of the model loaded takes it out at the first check: that is an answer, not a failure", async (t) => {
  const { stack, entry, modelReadyCalls, statesSeen } = await watchedModel(t);
  // What Triton answers ModelReady for a model that was unloaded (NOT_FOUND), once.
  stack.sim.setFault('qwen3-vllm', { kind: 'model-ready-error', code: 'NOT_FOUND', message: "Request for unknown model: 'qwen3-vllm' has no available versions", firstN: 1 });
  await eventually(() => modelReadyCalls() >= 1, 5000, 'the health check that sees the model gone');
  await eventually(() => statesSeen().some((s) => s !== 'ready'), 2000, 'the model to leave traffic after that one answer');
  assert.match(String(stack.logs.find('model left service').at(-1)?.err ?? ''), /no available versions/);
  await eventually(() => entry.state === 'ready', 8000, 'the model to come back once Triton has it again');
});
