/**
 * Discovery mode (`models: []`) is not a one-off at start-up: a model Triton loads later is
 * discovered and served, and one target that is down does not keep the pod out of the Service
 * while another target serves.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { TritonClient } from '../../src/triton/client.js';
import { startSimulator } from '../../sim/index.js';
import { freePort } from '../helpers/free-port.js';
import { complete } from '../helpers/openai-http.js';
import { eventually, startGateway, startStack } from '../helpers/stack.js';

test('a model Triton loads after start-up is discovered and served', async (t) => {
  const stack = await startStack({
    sim: { models: [{ name: 'a-vllm', flavour: 'vllm' }, { name: 'b-vllm', flavour: 'vllm', loaded: false }] },
    config: { models: [] },
  });
  const triton = new TritonClient({ target: stack.sim.grpcAddress });
  t.after(async () => {
    triton.close();
    await stack.close();
  });
  assert.equal(stack.app.services.registry.get('b-vllm'), undefined);
  await triton.loadModel('b-vllm');
  await eventually(() => stack.app.services.registry.get('b-vllm')?.state === 'ready', 8000, 'b-vllm to be discovered and warmed up');
  const res = await complete(stack.url, { model: 'b-vllm', prompt: 'hi', max_tokens: 2 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
});

test('a Triton with nothing loaded at start-up: the pod turns ready once a model is loaded', async (t) => {
  const stack = await startStack({ sim: { models: [{ name: 'a-vllm', flavour: 'vllm', loaded: false }] }, config: { models: [] }, waitReady: false });
  const triton = new TritonClient({ target: stack.sim.grpcAddress });
  t.after(async () => {
    triton.close();
    await stack.close();
  });
  await eventually(async () => (await fetch(`${stack.url}/readyz`)).status === 503, 3000, 'the pod to be unready with no model');
  await triton.loadModel('a-vllm');
  await eventually(async () => (await fetch(`${stack.url}/readyz`)).status === 200, 8000, 'the pod to turn ready');
});

test('with one of two targets down, the pod is ready on the other; the down one is listed when it comes up', async (t) => {
  const up = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0, models: [{ name: 'a-vllm', flavour: 'vllm' }] });
  const downPort = await freePort();
  let late: Awaited<ReturnType<typeof startSimulator>> | undefined;
  t.after(async () => {
    await up.stop();
    await late?.stop();
  });
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    triton: { targets: [{ name: 'up', grpc: up.grpcAddress }, { name: 'down', grpc: `127.0.0.1:${downPort}` }], healthIntervalMs: 200, warmupRetryMaxMs: 1000 },
    models: [],
    governance: { eventLog: join(mkdtempSync(join(tmpdir(), 'gw-discovery-')), 'events.jsonl') },
  }, {});
  const { app, url } = await startGateway(config);
  t.after(() => app.close());

  await eventually(async () => (await fetch(`${url}/readyz`)).status === 200, 8000, 'the pod to be ready on the healthy target');
  const strict = (await (await fetch(`${url}/readyz?strict=1`)).json()) as { reasons: string[] };
  assert.ok(strict.reasons.includes('target down not ready'), JSON.stringify(strict));
  assert.equal((await complete(url, { model: 'a-vllm', prompt: 'hi', max_tokens: 2 })).status, 200);

  late = await startSimulator({ grpcPort: downPort, httpPort: 0, metricsPort: 0, models: [{ name: 'c-vllm', flavour: 'vllm' }] });
  await eventually(() => app.services.registry.get('c-vllm')?.state === 'ready', 8000, 'the late target models to be discovered');
  await eventually(async () => (await fetch(`${url}/readyz?strict=1`)).status === 200, 5000, 'the strict /readyz');
});
