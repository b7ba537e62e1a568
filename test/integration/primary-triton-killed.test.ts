/**
 * 4. The primary Triton process dies: the fallback on another Triton serves; when the primary
 * comes back on the same address, traffic returns to it by itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { startSimulator } from '../../sim/index.js';
import { LogSink } from '../helpers/log-sink.js';
import { complete } from '../helpers/openai-http.js';
import { eventually } from '../helpers/stack.js';

test('the fallback on another Triton serves while the primary is down, and traffic returns after', async (t) => {
  let primarySim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
  const backupSim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
  t.after(async () => {
    await primarySim.stop();
    await backupSim.stop();
  });
  const primaryPort = Number(primarySim.grpcAddress.split(':')[1]);
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    triton: {
      targets: [
        { name: 'primary', grpc: primarySim.grpcAddress },
        { name: 'backup', grpc: backupSim.grpcAddress },
      ],
      healthIntervalMs: 100,
      warmupRetryMaxMs: 200,
    },
    models: [
      { name: 'llama-3-8b', target: 'primary', tritonModel: 'llama-3-8b-trtllm', fallbacks: ['llama-backup'], deadlines: { totalMs: 1000, ttftMs: 300, idleMs: 300 } },
      { name: 'llama-backup', target: 'backup', tritonModel: 'llama-3-8b-trtllm' },
    ],
    resilience: { breaker: { errorThresholdPercentage: 50, volumeThreshold: 3, resetTimeoutMs: 300, rollingWindowMs: 5000 } },
    governance: { eventLog: join(mkdtempSync(join(tmpdir(), 'gw-killed-')), 'events.jsonl') },
  });
  const app = await buildApp(config, { logDestination: new LogSink() });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  await eventually(async () => (await fetch(`${url}/readyz?strict=1`)).status === 200, 10_000, 'ready');

  const ask = { model: 'llama-3-8b', prompt: 'are you there', max_tokens: 3 };
  assert.equal((await complete(url, ask)).headers.get('x-served-model'), 'llama-3-8b');

  await primarySim.stop();
  for (let i = 0; i < 5; i += 1) {
    const res = await complete(url, ask);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers.get('x-served-model'), 'llama-backup');
  }
  await eventually(async () => (await fetch(`${url}/readyz?strict=1`)).status === 503, 5000, 'the strict /readyz to report the primary down');
  // The replica itself stays in the Service: its fallback on the backup Triton serves.
  assert.equal((await fetch(`${url}/readyz`)).status, 200);

  // The primary comes back on the same address.
  primarySim = await startSimulator({ grpcPort: primaryPort, httpPort: 0, metricsPort: 0 });
  await eventually(async () => (await complete(url, ask)).headers.get('x-served-model') === 'llama-3-8b', 15_000, 'traffic to return to the primary');
  await eventually(async () => (await fetch(`${url}/readyz?strict=1`)).status === 200, 10_000, 'strictly ready again');
});
