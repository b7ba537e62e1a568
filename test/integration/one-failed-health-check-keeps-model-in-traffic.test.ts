/**
 * Health-check hysteresis: one ModelReady call that fails in transport (a deadline, a reset) does
 * not take a ready model out of traffic; a run of them, or Triton answering ready=false, does.
 * The simulator has no ModelReady fault, so the test makes the live upstream's call throw at the
 * gRPC boundary.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, startStack } from '../helpers/stack.js';

test('one failed ModelReady keeps the model ready; consecutive failures take it out', async (t) => {
  const stack = await startStack({ sim: { models: [{ name: 'qwen3-vllm', flavour: 'vllm' }] }, config: { models: [{ name: 'qwen3', tritonModel: 'qwen3-vllm' }] } });
  t.after(() => stack.close());
  const entry = stack.app.services.registry.get('qwen3')!;
  const upstream = entry.upstream as { modelReady: (name: string, version?: string) => Promise<boolean> };
  const real = upstream.modelReady.bind(upstream);
  let failNext = 0;
  let failed = 0;
  upstream.modelReady = async (name, version) => {
    if (failNext > 0) {
      failNext -= 1;
      failed += 1;
      throw new Error('14 UNAVAILABLE: Connection reset by peer');
    }
    return real(name, version);
  };
  const states: string[] = [];
  const watch = setInterval(() => states.push(entry.state), 10);
  t.after(() => clearInterval(watch));

  failNext = 1;
  await eventually(() => failed === 1, 3000, 'the failed health check');
  await new Promise((r) => setTimeout(r, 600)); // three more health sweeps
  assert.ok(states.every((s) => s === 'ready'), `the model left traffic: ${[...new Set(states)].join(', ')}`);

  failNext = 3;
  await eventually(() => entry.state !== 'ready', 3000, 'three failed health checks to take the model out');
  await eventually(() => entry.state === 'ready', 5000, 'the model to come back');
});
