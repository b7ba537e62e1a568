import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../../src/telemetry/metrics.js';

test('metrics record by default and nothing when switched off', async () => {
  const on = createMetrics({ defaultMetrics: false });
  on.tokensGenerated.inc({ model_name: 'm' }, 5);
  assert.match(await on.registry.metrics(), /tokens_generated_total\{model_name="m"\} 5/);
  const off = createMetrics({ enabled: false });
  off.tokensGenerated.inc({ model_name: 'm' }, 5);
  off.requestDuration.observe({ endpoint: '/x' }, 1);
  const text = await off.registry.metrics();
  assert.ok(!text.includes('model_name="m"'));
  assert.ok(!text.includes('process_cpu'), 'no default process metrics either');
});

test('the default process metrics carry no *_total gauges (promtool rejects them)', async () => {
  const text = await createMetrics().registry.metrics();
  assert.ok(text.includes('process_resident_memory_bytes'));
  assert.ok(!/# TYPE \S+_total gauge/.test(text));
});
