/**
 * `triton-gateway ops diagnose` against a real gateway and simulator: with a model whose warm-up
 * fails it exits 3 and names the model and the reason; with the fault cleared it finds nothing;
 * a wrong token is a clear failure.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startStack, type Stack } from '../helpers/stack.js';
import { cli } from '../unit/cli/run-cli.js';

const TOKEN = 'admin-token-for-diagnose-cli-test';
let stack: Stack;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diagnose-'));
  stack = await startStack({
    sim: {
      models: [
        { name: 'llama-3-8b-trtllm', flavour: 'ensemble' },
        { name: 'qwen3-vllm', flavour: 'vllm', fault: { kind: 'error', code: 'INTERNAL', message: 'CUDA out of memory' } },
      ],
    },
    config: { auth: { adminToken: TOKEN }, triton: { warmupRetryMaxMs: 200 }, governance: { eventLog: join(dir, 'events.jsonl'), enginePollMs: 0 } },
    waitReady: false,
  });
});
after(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

test('names the model that is out of service and why, with exit code 3', async () => {
  await eventually(() => stack.app.services.registry.get('qwen3')!.state === 'warmup_failed', 5000, 'qwen3 warm-up failure');
  const run = await cli(['ops', 'diagnose', stack.url, '--token', TOKEN]);
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stdout, /^Gateway /);
  assert.match(run.stdout, /Models\n/);
  assert.match(run.stdout, /✗ CRITICAL model qwen3 is warmup_failed: .*CUDA out of memory/);
  assert.doesNotMatch(run.stdout, /model llama-3-8b is/);
});

test('a healthy gateway: nothing looks wrong, exit 0 (token from GATEWAY_ADMIN_TOKEN)', async () => {
  stack.sim.clearFaults();
  await eventually(() => stack.app.services.registry.get('qwen3')!.state === 'ready', 5000, 'qwen3 ready');
  await eventually(async () => (await cli(['ops', 'diagnose', `${stack.url}/`], { env: { GATEWAY_ADMIN_TOKEN: TOKEN } })).code === 0, 5000, 'a clean diagnosis');
  const run = await cli(['ops', 'diagnose', `${stack.url}/debug/diagnostics`], { env: { GATEWAY_ADMIN_TOKEN: TOKEN } });
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /primary +ready {2}metrics scraped [\d.]+s ago/);
  assert.match(run.stdout, /Nothing looks wrong\./);
});

test('a wrong token or an unreachable gateway exits 1 with the reason', async () => {
  const refused = await cli(['ops', 'diagnose', stack.url, '--token', 'not-the-admin-token']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /answered 401: the admin token was refused/);
  const down = await cli(['ops', 'diagnose', 'http://127.0.0.1:1', '--token', TOKEN, '--timeout-ms', '2000']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:1/);
});
