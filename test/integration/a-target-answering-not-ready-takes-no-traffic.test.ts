/**
 * A Triton target that answers ServerReady=false (starting, or shutting down) gets no inference
 * requests: its models' requests go straight to their fallbacks on another target, where each
 * was sent there first, refused ("Server not ready"), retried and counted against its breaker.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { startSimulator } from '../../sim/index.js';
import { complete } from '../helpers/openai-http.js';
import { eventually, startGateway, waitReady } from '../helpers/stack.js';

test('a model whose target answers not ready is passed over for its fallback without a request to it', async (t) => {
  const simA = await startSimulator({ models: [{ name: 'llama-3-8b-trtllm', flavour: 'ensemble' }] });
  const simB = await startSimulator({ models: [{ name: 'qwen3-vllm', flavour: 'vllm' }] });
  const config = parseConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      triton: {
        targets: [
          { name: 'a', grpc: simA.grpcAddress },
          { name: 'b', grpc: simB.grpcAddress },
        ],
        healthIntervalMs: 200,
        warmupRetryMaxMs: 1000,
      },
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', target: 'a', fallbacks: ['qwen3'] },
        { name: 'qwen3', tritonModel: 'qwen3-vllm', target: 'b' },
      ],
      governance: { eventLog: join(mkdtempSync(join(tmpdir(), 'gw-events-')), 'e.jsonl') },
    },
    {},
  );
  const { app, url } = await startGateway(config);
  t.after(async () => {
    await app.close();
    await simA.stop();
    await simB.stop();
  });
  await waitReady(url);
  const registry = app.services.registry;

  simA.setServerReady(false);
  await eventually(() => registry.isTargetRefusing('a'), 5000, 'target a to answer not ready');
  simA.reset();
  const res = await complete(url, { model: 'llama-3-8b', prompt: 'hello', max_tokens: 4 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
  assert.equal(res.headers.get('x-fallback-reason'), 'not_ready');
  assert.deepEqual(simA.received(), [], 'no inference request went to the target that said it is not ready');

  simA.setServerReady(true);
  await eventually(() => !registry.isTargetRefusing('a'), 5000, 'target a to answer ready again');
  const back = await complete(url, { model: 'llama-3-8b', prompt: 'hello', max_tokens: 4 });
  assert.equal(back.headers.get('x-served-model'), 'llama-3-8b');
});
