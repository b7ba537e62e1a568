/**
 * `triton-gateway ops diagnose` against a real gateway and simulator: with a model whose warm-up
 * fails it exits 3 and names the model and the reason; with the fault cleared it finds nothing;
 * a wrong token is a clear failure. The report reads the body /debug/diagnostics really answers:
 * the event-loop delay percentiles, a model name longer than the column, a refused API key (a
 * client error with no model) that must not by itself make the exit code 3.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startStack, testModels, type Stack } from '../helpers/stack.js';
import { cli } from '../unit/cli/run-cli.js';

const TOKEN = 'admin-token-for-diagnose-cli-test';
const API_KEY = 'api-key-for-diagnose-cli-test';
let stack: Stack;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diagnose-'));
  stack = await startStack({
    sim: {
      models: [
        { name: 'llama-3-8b-trtllm', flavour: 'ensemble' },
        { name: 'qwen3-vllm', flavour: 'vllm', fault: { kind: 'error', code: 'INTERNAL', message: 'CUDA out of memory' } },
        { name: 'llama-3-8b-llmapi', flavour: 'llmapi' },
      ],
    },
    config: {
      auth: { adminToken: TOKEN, apiKeys: [API_KEY] },
      // A model name of 17 characters, longer than the report's default name column.
      models: [...testModels, { name: 'llama-3-8b-llmapi', tritonModel: 'llama-3-8b-llmapi', maxTokens: 512 }],       triton: { warmupRetryMaxMs: 200 },
      governance: { eventLog: join(dir, 'events.jsonl'), enginePollMs: 0 },
    },
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

test('a gateway that stalls half-way through its answer exits 1 with one line, not a stack trace', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"generatedAt":');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const run = await cli(['ops', 'diagnose', `http://127.0.0.1:${(server.address() as AddressInfo).port}`, '--token', 't', '--timeout-ms', '300']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /stopped answering: no whole answer within 300 ms/);
    assert.doesNotMatch(run.stderr, /unexpected error|\n\s+at /);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('a model name longer than the column keeps two spaces before its state, rows aligned', async () => {
  await eventually(() => stack.app.services.registry.get('llama-3-8b-llmapi')!.state === 'ready', 5000, 'llama-3-8b-llmapi ready');
  const run = await cli(['ops', 'diagnose', stack.url, '--token', TOKEN]);
  const rows = modelRows(run.stdout);
  assert.match(rows.get('llama-3-8b-llmapi') ?? '', /^ {2}llama-3-8b-llmapi {2,}ready /, run.stdout);
  const stateColumns = new Set([...rows.values()].map((r) => r.search(/ (ready|pending|warmup_failed|unavailable) /)));
  assert.equal(stateColumns.size, 1, `the state column starts at one offset:\n${[...rows.values()].join('\n')}`);
});

test('the event-loop delay is read from the real body (p99, p50, max); a saturated loop warns and exits 3', async (t) => {
  // The sampler's first sample lands one interval (5 s) after start; until then delayMs is null.
  await eventually(() => stack.app.services.runtime.latest().eventLoopDelayMs !== null, 7000, 'a runtime sample');
  const calm = await cli(['ops', 'diagnose', stack.url, '--token', TOKEN]);
  assert.match(calm.stdout, /event-loop delay p99 \d+\.\d ms \(p50 \d+\.\d, max \d+\.\d\)/);
  assert.doesNotMatch(calm.stdout, /saturated/);

  // A loop that stalls 350 ms at p99: only the sample is made up, the body is the route's own.
  const real = stack.app.services.runtime.latest();
  t.mock.method(stack.app.services.runtime, 'latest', () => ({ ...real, eventLoopDelayMs: { p50: 40, p99: 350, max: 900 } }));
  const saturated = await cli(['ops', 'diagnose', stack.url, '--token', TOKEN]);
  assert.equal(saturated.code, 3, saturated.stdout);
  assert.match(saturated.stdout, /event-loop delay p99 350\.0 ms \(p50 40\.0, max 900\.0\)/);
  assert.match(saturated.stdout, /! warning  event-loop delay p99 is 350 ms \(over 200 ms\): the gateway process is saturated/);
});

test('a refused API key (401, no model) is listed without a model and alone does not exit 3', async () => {
  const refused = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer not-a-valid-api-key-at-all', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(refused.status, 401);
  const requestId = refused.headers.get('x-request-id');
  const run = await cli(['ops', 'diagnose', stack.url, '--token', TOKEN]);
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, new RegExp(`401 invalid_api_key {2}request ${requestId}`));
  assert.doesNotMatch(run.stdout, /model null/);
  assert.match(run.stdout, /client errors in the last 5 min \(not counted as problems\): invalid_api_key ×\d+/);
  assert.match(run.stdout, /Nothing looks wrong\./);
});

/** The rows of the report's Models section, by model name. */
function modelRows(stdout: string): Map<string, string> {
  const lines = stdout.split('\n');
  const start = lines.indexOf('Models') + 1;
  const rows = new Map<string, string>();
  for (const l of lines.slice(start)) {
    if (!l.startsWith('  ')) break;
    rows.set(l.trim().split(/\s+/)[0]!, l);
  }
  return rows;
}
