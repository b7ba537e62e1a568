/**
 * The "request completed" line has every field on-call and the dashboards rely on, and no
 * prompt, completion, key or token appears anywhere in the logs; /debug/diagnostics needs the
 * admin token, has the documented shape, shows the simulator's GPU numbers, and never a secret
 * (a credentialed metrics URL's included); its CPU figures are the background sampler's.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort } from '../helpers/free-port.js';
import { complete, completeStream } from '../helpers/openai-http.js';
import { loggerOptions } from '../../src/telemetry/logger.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const adminToken = 'admin-secret-token-7f3a9c1e';
const apiKey = 'sk-gateway-key-5b2d8e4f0a1c';
const prompt = 'PROMPT-CANARY the secret recipe is';
// Triton's metrics endpoint behind a password and a query token, as some deployments put it.
const metricsPassword = 's3cret-9c1f';
const metricsToken = 'tok-4e7a2d';
let metricsPort: number;
let stack: Stack;

before(async () => {
  metricsPort = await freePort();
  stack = await startStack({
    sim: { metricsPort },
    env: {
      GATEWAY_ADMIN_TOKEN: adminToken,
      GATEWAY_API_KEYS: apiKey,
      TRITON_METRICS_URL: `http://metrics-user:${metricsPassword}@127.0.0.1:${metricsPort}/metrics?token=${metricsToken}`,
    },
    config: {
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', pricing: { inputPerMillion: 1, outputPerMillion: 2 }, engine: { hash: 'cfg-hash', quantisation: 'fp8' }, fallbacks: ['qwen3'] },
        { name: 'qwen3', tritonModel: 'qwen3-vllm' },
      ],
    },
  });
});
after(async () => stack.close());

const headers = { authorization: `Bearer ${apiKey}` };

test('the completion line has every field; no prompt or completion text is logged', async () => {
  const res = await complete(stack.url, { model: 'llama-3-8b', prompt, max_tokens: 6 }, headers);
  assert.equal(res.status, 200);
  const completionText: string = res.body.choices[0].text;
  await completeStream(stack.url, { model: 'qwen3', prompt, max_tokens: 3 }, headers);
  await eventually(() => stack.logs.find('request completed').length >= 1, 2000, 'a completion line');
  const line = stack.logs.find('request completed').find((l) => l.model === 'llama-3-8b')!;
  for (const field of [
    'duration_ms', 'queue_delay_us', 'tokens_in', 'tokens_out', 'kv_cache_reuse', 'speculative', 'schema_id', 'engine_hash',
    'quantisation', 'cost_usd', 'queue_delay_budget_overrun', 'token_budget_overrun', 'error_code', 'warning', 'model',
    'served_model', 'stream', 'status', 'reqId',
  ]) {
    assert.ok(field in line, `field ${field}`);
  }
  assert.equal(line.tokens_in, res.body.usage.prompt_tokens);
  assert.equal(line.tokens_out, res.body.usage.completion_tokens);
  assert.equal(line.cost_usd, (res.body.usage.prompt_tokens * 1 + res.body.usage.completion_tokens * 2) / 1e6);
  assert.equal(typeof (line.kv_cache_reuse as { hits: number }).hits, 'number');
  assert.equal(line.stream, false);
  assert.equal(line.status, 200);
  assert.ok(typeof line.engine_hash === 'string' && line.engine_hash.length > 0);
  // The line skips pino's redactor (telemetry/logger.ts), so none of its keys, nested ones
  // included, may be one a redaction path names.
  const redact = loggerOptions({ level: 'info', logPrompts: false }).redact as { paths: string[] };
  const redacted = new Set(redact.paths.map((p) => p.replace(/^\*\./, '').split(/[.[]/)[0]));
  const keys = Object.entries(line).flatMap(([k, v]) => [k, ...(v !== null && typeof v === 'object' ? Object.keys(v) : [])]);
  for (const key of keys) assert.ok(!redacted.has(key), `'${key}' is a redacted key`);
  assert.ok(redacted.has('prompt') && redacted.has('authorization'), 'the check reads the real paths');
  const all = stack.logs.text();
  assert.ok(!all.includes('PROMPT-CANARY'), 'no prompt text in any log line');
  assert.ok(!all.includes(completionText.trim()), 'no completion text in any log line');
  assert.ok(!all.includes(apiKey) && !all.includes(adminToken), 'no key or token in any log line');
});

test('every log line of a request carries its request id: its fallback warning and its completion line', async () => {
  const from = stack.logs.lines.length;
  const forceFallback = (enabled: boolean) =>
    fetch(`${stack.url}/admin/models/llama-3-8b/force-fallback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'x-actor': 'test', 'content-type': 'application/json' },
      body: JSON.stringify({ enabled }),
    });
  assert.equal((await forceFallback(true)).status, 200);
  try {
    const res = await complete(stack.url, { model: 'llama-3-8b', prompt: 'x', max_tokens: 2 }, { ...headers, 'x-request-id': 'trace-me-43' });
    assert.equal(res.status, 200);
  } finally {
    await forceFallback(false);
  }
  // Picked by what they say, not by their id: a line that lost the id must still be found.
  const requestLines = () => stack.logs.lines.slice(from).filter((l) => l.msg === 'falling back' || (l.msg === 'request completed' && l.model === 'llama-3-8b'));
  await eventually(async () => requestLines().length >= 2, 2_000, 'the fallback warning and the completion line');
  assert.deepEqual(
    requestLines().map((l) => [l.msg, l.reqId]),
    [
      ['falling back', 'trace-me-43'],
      ['request completed', 'trace-me-43'],
    ],
  );
});

test('diagnostics needs the admin token', async () => {
  assert.equal((await fetch(`${stack.url}/debug/diagnostics`)).status, 401);
  assert.equal((await fetch(`${stack.url}/debug/diagnostics`, { headers: { authorization: `Bearer ${apiKey}` } })).status, 401, 'an API key is not the admin token');
  assert.equal((await fetch(`${stack.url}/debug/active-requests`)).status, 401);
});

test('diagnostics has the documented shape, the simulator GPU numbers and no secrets', async () => {
  // The recent error the diagnostics must list (its code only, no prompt).
  assert.equal((await complete(stack.url, { model: 'nope', prompt: 'x' }, headers)).status, 404);
  await eventually(async () => {
    const body = (await (await fetch(`${stack.url}/debug/diagnostics`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { gpus: unknown[] };
    return body.gpus.length > 0;
  }, 3000, 'GPU numbers from the first poll');
  const res = await fetch(`${stack.url}/debug/diagnostics`, { headers: { authorization: `Bearer ${adminToken}` } });
  const text = await res.text();
  const body = JSON.parse(text);
  for (const key of ['system', 'process', 'gpus', 'triton', 'models', 'breakers', 'admission', 'recentErrors', 'build', 'config']) assert.ok(key in body, key);
  for (const key of ['cpu', 'load', 'memory', 'disk', 'network']) assert.ok(key in body.system, `system.${key}`);
  for (const key of ['pid', 'uptimeSeconds', 'memory', 'eventLoop', 'openHandles']) assert.ok(key in body.process, `process.${key}`);
  assert.equal(body.triton[0].name, 'primary');
  assert.equal(body.triton[0].ready, true);
  assert.ok(body.triton[0].metrics.lastSuccessAgeSeconds < 30);
  assert.deepEqual(body.models.map((m: { name: string }) => m.name).sort(), ['llama-3-8b', 'qwen3']);
  assert.ok(body.models[0].versions.length > 0);
  assert.equal(body.recentErrors[0].code, 'model_not_found');
  const simGpus = stack.sim.state().gpus;
  assert.equal(body.gpus.length, simGpus.length);
  for (const g of simGpus) {
    const d = body.gpus.find((x: { id: string }) => x.id === g.uuid);
    assert.equal(d.memoryTotalBytes, g.memoryTotalBytes);
    assert.equal(d.memoryUsedBytes, g.memoryUsedBytes);
    assert.equal(d.utilizationPercent, g.utilization * 100);
  }
  assert.ok(!text.includes(adminToken), 'no admin token');
  assert.ok(!text.includes(apiKey), 'no API key');
  assert.ok(!text.includes('PROMPT-CANARY'), 'no prompt text');
  assert.equal(body.config.auth.apiKeys, 1);
  // The GPU numbers above came through the credentialed URL; only its origin is shown.
  assert.equal(body.config.targets[0].metricsUrl, `http://127.0.0.1:${metricsPort}`);
  assert.ok(!text.includes(metricsPassword), 'no metrics password');
  assert.ok(!text.includes(metricsToken) && !text.includes('metrics-user'), 'no metrics query token or user');
  assert.ok(!stack.logs.text().includes(metricsPassword) && !stack.logs.text().includes(metricsToken), 'nor in any log line');
});

test('diagnostics shows the background CPU sample and takes none on the request path', async () => {
  // With the sampler's timer stopped the last sample can only change if the route samples itself
  // (the source document's version blocked a second for that on every call).
  const runtime = stack.app.services.runtime;
  runtime.stop();
  const taken = runtime.sample();
  await eventually(() => Date.now() > taken.sampledAt, 1000, 'a later millisecond than the sample');
  const body = (await (await fetch(`${stack.url}/debug/diagnostics`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as {
    system: { cpu: { sampledAt: string; percent: number | null } };
    process: { cpuPercent: number | null };
  };
  assert.equal(body.system.cpu.sampledAt, new Date(taken.sampledAt).toISOString());
  assert.equal(body.system.cpu.percent, taken.hostCpuPercent);
  assert.equal(body.process.cpuPercent, taken.processCpuPercent);
});

test('active requests are listed oldest first, also after one that came before them has finished', async () => {
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 30 });
  const inFlight = (n: number) => eventually(() => stack.app.services.active.size === n, 2000, `${n} in flight`);
  const first = completeStream(stack.url, { model: 'llama-3-8b', prompt, max_tokens: 8 }, headers);
  await inFlight(1);
  await new Promise((resolve) => setTimeout(resolve, 25));
  const second = completeStream(stack.url, { model: 'llama-3-8b', prompt, max_tokens: 24 }, headers);
  await inFlight(2);
  await new Promise((resolve) => setTimeout(resolve, 25));
  const third = completeStream(stack.url, { model: 'llama-3-8b', prompt, max_tokens: 24 }, headers);
  await inFlight(3);
  await first;
  await inFlight(2);
  const body = (await (await fetch(`${stack.url}/debug/active-requests`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { count: number; requests: Array<{ ageMs: number }> };
  assert.equal(body.count, 2);
  assert.ok(body.requests[0]!.ageMs > body.requests[1]!.ageMs, `oldest first: ${JSON.stringify(body.requests)}`);
  await Promise.all([second, third]);
  stack.sim.clearFaults();
});

test('active requests list in-flight requests without prompt text', async () => {
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 30 });
  const pending = completeStream(stack.url, { model: 'llama-3-8b', prompt, max_tokens: 10 }, headers);
  await eventually(() => stack.app.services.active.size === 1, 2000, 'one in flight');
  const res = await fetch(`${stack.url}/debug/active-requests`, { headers: { authorization: `Bearer ${adminToken}` } });
  const text = await res.text();
  const body = JSON.parse(text);
  assert.equal(body.count, 1);
  assert.equal(body.requests[0].model, 'llama-3-8b');
  assert.equal(body.requests[0].stream, true);
  assert.equal(typeof body.requests[0].ageMs, 'number');
  assert.equal(body.requests[0].promptChars, prompt.length, "the prompt's size, for the long prompts that hold the KV cache");
  assert.ok(!text.includes('PROMPT-CANARY'));
  // A stream that is relaying says how long it has waited since its last token.
  await eventually(async () => {
    const after = (await (await fetch(`${stack.url}/debug/active-requests`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { requests: Array<{ msSinceLastToken: unknown }> };
    const since = after.requests[0]?.msSinceLastToken;
    return typeof since === 'number' && since >= 0 && since < 5000;
  }, 2000, 'msSinceLastToken once tokens flow');
  await pending;
  stack.sim.clearFaults();
});
