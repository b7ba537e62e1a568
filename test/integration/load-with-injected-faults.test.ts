/**
 * A bounded loopback load test with 5% injected upstream faults: no crash, no unhandled
 * rejection, every in-flight slot released, and memory flat across the run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { complete, completeStream } from '../helpers/openai-http.js';
import { primary, resilienceConfig, secondary, startResilienceStack } from '../helpers/resilience-stack.js';
import { scrape } from '../helpers/scrape.js';
import { eventually } from '../helpers/stack.js';

/**
 * The heap in use after a full GC: without one, heapUsed counts garbage not yet collected, and a
 * loaded machine can put tens of MiB of it between two samples.
 */
function liveHeapBytes(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

test('1,200 requests with 5% upstream faults leave no leaks', async (t) => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => void rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  t.after(() => process.off('unhandledRejection', onRejection));

  const base = resilienceConfig();
  const stack = await startResilienceStack({
    // Default deadlines: a loaded CI machine must not turn this into a timeout test.
    config: {
      logging: { level: 'warn' },
      models: [
        { name: 'llama-3-8b', tritonModel: primary, fallbacks: ['qwen3'] },
        { name: 'qwen3', tritonModel: secondary },
      ],
      resilience: { ...(base.resilience as object), breaker: { errorThresholdPercentage: 50, volumeThreshold: 20, resetTimeoutMs: 200, rollingWindowMs: 2000 } },
    },
  });
  t.after(() => stack.close());
  for (const model of [primary, secondary]) {
    stack.sim.setFault(model, { kind: 'error', code: 'UNAVAILABLE', message: 'injected', fraction: 0.05, seed: 42 });
  }
  const total = 1200;
  const concurrency = 24;
  const statuses = new Map<number, number>();
  let sent = 0;
  const heapAt: number[] = [];
  async function worker(): Promise<void> {
    while (sent < total) {
      const i = sent++;
      const body = { model: i % 4 === 0 ? 'qwen3' : 'llama-3-8b', prompt: `load ${i % 50}`, max_tokens: 4 };
      const status = i % 3 === 0 ? (await completeStream(stack.url, body)).status : (await complete(stack.url, body)).status;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (i === Math.floor(total / 3)) heapAt.push(liveHeapBytes());
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));

  const ok = statuses.get(200) ?? 0;
  assert.ok(ok >= total * 0.9, `most requests served: ${JSON.stringify([...statuses])}`);
  for (const status of statuses.keys()) assert.ok([200, 502, 503, 504].includes(status), `only honest failure statuses, got ${status}`);
  await eventually(() => stack.app.services.admission.state.inFlight === 0 && stack.app.services.active.size === 0, 5000, 'every slot released');
  heapAt.push(liveHeapBytes());
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(m.value('active_requests'), 0);
  assert.equal(m.value('request_queue_depth'), 0);
  assert.equal(m.value('http_requests_total', { endpoint: '/v1/completions' }), total);
  for (const model of [primary, secondary]) assert.equal(stack.sim.state().models[model]!.inFlight, 0);
  assert.deepEqual(rejections, []);
  // Flat memory: after a full GC, the heap after the run is within 32 MiB of where it was a third
  // of the way in.
  assert.equal(heapAt.length, 2);
  const growth = heapAt[1]! - heapAt[0]!;
  t.diagnostic(`live heap ${(heapAt[0]! / 1048576).toFixed(1)} → ${(heapAt[1]! / 1048576).toFixed(1)} MiB`);
  assert.ok(growth < 32 * 1024 * 1024, `live heap grew ${(growth / 1048576).toFixed(1)} MiB`);
});
