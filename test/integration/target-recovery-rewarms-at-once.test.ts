/**
 * After a Triton restart the registry does not wait out the models' pending backoff (up to
 * warmupRetryMaxMs): the target's down->up transition resets it and re-warms them at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { complete } from '../helpers/openai-http.js';
import { eventually, startStack } from '../helpers/stack.js';

test('a model is ready again soon after its target recovers, before its pending backoff fires', async (t) => {
  // The backoff after the outage is 10-20 s; the health interval is 200 ms.
  const stack = await startStack({
    sim: { models: [{ name: 'qwen3-vllm', flavour: 'vllm' }] },
    config: { models: [{ name: 'qwen3', tritonModel: 'qwen3-vllm' }], triton: { warmupRetryMinMs: 20_000, warmupRetryMaxMs: 30_000 } },
  });
  const port = Number(stack.sim.grpcAddress.split(':')[1]);
  let restarted: Awaited<ReturnType<typeof startSimulator>> | undefined;
  t.after(async () => {
    await stack.close();
    await restarted?.stop();
  });
  const registry = stack.app.services.registry;

  await stack.sim.stop();
  await eventually(() => registry.get('qwen3')?.state !== 'ready' && !registry.isTargetUp('primary'), 5000, 'the model to leave service');
  restarted = await startSimulator({ grpcPort: port, httpPort: 0, metricsPort: 0, models: [{ name: 'qwen3-vllm', flavour: 'vllm' }] });
  // The pending backoff is 10-20 s: ready within 8 s means the recovery retried at once.
  await eventually(() => registry.get('qwen3')?.state === 'ready', 8000, 'the model to be ready again');
  const res = await complete(stack.url, { model: 'qwen3', prompt: 'back?', max_tokens: 2 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
});
