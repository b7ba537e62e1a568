/**
 * Engine and warm-up events on their real path (simulator faults → the registry's warm-up →
 * governance): llm_engine_published with the engine identity from Triton's config parameters,
 * llm_warmup_failed once per failure (not once per retry), llm_warmup_completed once the fault
 * clears, the admin re-warm-up, and the identity in the completion log line.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const TOKEN = 'admin-token-for-governance-tests';
let stack: Stack;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gov-warmup-'));
  stack = await startStack({
    sim: {
      models: [
        { name: 'llama-3-8b-trtllm', flavour: 'ensemble', parameters: { engine_hash: 'sha256:1111aaaa', quantisation: 'fp8', schema_id: 'answers-v3', manifest: 'sha256:feedbeef' } },
        { name: 'qwen3-vllm', flavour: 'vllm', fault: { kind: 'error', code: 'INTERNAL', message: 'engine not loaded' } },
      ],
    },
    config: {
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm' },
        { name: 'qwen3', tritonModel: 'qwen3-vllm', warmup: { prompt: 'Say hello.', maxTokens: 4, latencyBudgetMs: 300 } },
      ],
      auth: { adminToken: TOKEN },
      triton: { warmupRetryMinMs: 50, warmupRetryMaxMs: 200 },
      governance: { eventLog: join(dir, 'events.jsonl'), enginePollMs: 0 },
    },
    waitReady: false,
  });
});
after(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

async function events(query = ''): Promise<GovernanceEvent[]> {
  const res = await fetch(`${stack.url}/admin/events?limit=1000${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { events: GovernanceEvent[] }).events;
}

const of = <T extends GovernanceEvent['event']>(list: GovernanceEvent[], type: T, model: string) =>
  list.filter((e): e is Extract<GovernanceEvent, { event: T }> => e.event === type && 'model' in e && e.model === model);

test('start-up publishes each engine once and records warm-up success and failure with schema versions', async () => {
  await eventually(async () => of(await events(), 'llm_warmup_failed', 'qwen3').length > 0, 5000, 'qwen3 warm-up failure event');
  await eventually(async () => of(await events(), 'llm_warmup_completed', 'llama-3-8b').length > 0, 5000, 'llama warm-up event');
  const qwenRequests = () => stack.sim.received().filter((r) => r.model === 'qwen3-vllm').length;
  // Let the registry retry the failing warm-up a few times.
  const seen = qwenRequests();
  await eventually(() => qwenRequests() >= seen + 3, 5000, 'warm-up retries');

  const all = await events();
  const published = of(all, 'llm_engine_published', 'llama-3-8b');
  assert.equal(published.length, 1, 'published once, however often the model is described');
  assert.deepEqual(published[0]!.engine, {
    model: 'llama-3-8b', triton_model: 'llama-3-8b-trtllm', target: 'primary', version: '1', engine_hash: 'sha256:1111aaaa', quantisation: 'fp8', manifest: 'sha256:feedbeef', source: 'triton',
  });
  assert.equal(published[0]!.previous, null);
  assert.equal(of(all, 'llm_engine_published', 'qwen3').length, 1);

  const ok = of(all, 'llm_warmup_completed', 'llama-3-8b')[0]!;
  assert.equal(ok.version, '1');
  assert.equal(ok.engine_hash, 'sha256:1111aaaa');
  assert.deepEqual(ok.schema_versions, { model_versions: ['1'], schema_id: 'answers-v3', schema_version: null });
  assert.ok(ok.completion_tokens! > 0);
  assert.equal(ok.latency_budget_ms, 30_000);

  const failed = of(all, 'llm_warmup_failed', 'qwen3');
  assert.equal(failed.length, 1, 'the same failure while retrying is recorded once');
  assert.match(failed[0]!.reason, /engine not loaded/);
  assert.deepEqual(failed[0]!.schema_versions.model_versions, ['1']);
  // Logged through pino too, with the event name as the message.
  assert.ok(stack.logs.find('llm_warmup_failed').some((l) => l.model === 'qwen3' && l.governance === true));

  // Traffic stays off the failing model.
  const refused = await fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen3', prompt: 'hi', max_tokens: 2 }) });
  assert.equal(refused.status, 503);

  stack.sim.clearFaults();
  await eventually(async () => of(await events(), 'llm_warmup_completed', 'qwen3').length === 1, 5000, 'qwen3 warm-up completed');
});

test('the completion log line carries the engine identity (hash, quantisation, manifest)', async () => {
  const res = await fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3-8b', prompt: 'hi', max_tokens: 2 }) });
  assert.equal(res.status, 200);
  await eventually(() => stack.logs.find('request completed').some((l) => l.model === 'llama-3-8b'), 2000, 'the completion log line');
  const line = stack.logs.find('request completed').filter((l) => l.model === 'llama-3-8b').at(-1)!;
  assert.equal(line.engine_hash, 'sha256:1111aaaa');
  assert.equal(line.quantisation, 'fp8');
  assert.equal(line.schema_id, 'answers-v3');
  assert.equal(line.engine_manifest, 'sha256:feedbeef');
});

test('POST /admin/models/:name/warmup re-runs the warm-up: 200 and an event when it passes, 503 and traffic off when not', async () => {
  const unauthorized = await fetch(`${stack.url}/admin/models/llama-3-8b/warmup`, { method: 'POST' });
  assert.equal(unauthorized.status, 401);

  const before = of(await events(), 'llm_warmup_completed', 'llama-3-8b').length;
  const ok = await fetch(`${stack.url}/admin/models/llama-3-8b/warmup`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(ok.status, 200);
  const okBody = (await ok.json()) as { state: string; warmup: { passed: boolean } };
  assert.equal(okBody.warmup.passed, true);
  assert.equal(okBody.state, 'ready');
  // Recorded off the request path: the answer does not wait for the event log's fsync.
  await eventually(async () => of(await events(), 'llm_warmup_completed', 'llama-3-8b').length === before + 1, 3000, 'the warm-up event');

  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'error', code: 'UNAVAILABLE', message: 'engine crashed', firstN: 1 });
  const failed = await fetch(`${stack.url}/admin/models/llama-3-8b/warmup`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(failed.status, 503);
  const body = (await failed.json()) as { error: { code: string; message: string }; state: string };
  assert.equal(body.error.code, 'warmup_failed');
  assert.match(body.error.message, /engine crashed/);
  assert.equal(body.state, 'warmup_failed');
  await eventually(async () => of(await events(), 'llm_warmup_failed', 'llama-3-8b').length === 1, 3000, 'the failed warm-up event');
  const recorded = of(await events(), 'llm_warmup_failed', 'llama-3-8b');
  assert.match(recorded[0]!.reason, /engine crashed/);
  // The registry's retry (the fault hit only the first request) brings it back.
  await eventually(() => stack.app.services.registry.get('llama-3-8b')!.state === 'ready', 5000, 'llama back in service');
  stack.sim.clearFaults();
});

test('an asked-for warm-up that Triton refuses before it can run (the version not ready) is recorded as failed', async () => {
  await eventually(() => stack.app.services.registry.get('llama-3-8b')!.state === 'ready', 5000, 'llama in service');
  const before = of(await events(), 'llm_warmup_failed', 'llama-3-8b').length;
  const refusal = "Request for unknown model: 'llama-3-8b-trtllm' version 1 is not at ready state";
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'model-ready-error', code: 'UNAVAILABLE', message: refusal, firstN: 1 });
  const res = await fetch(`${stack.url}/admin/models/llama-3-8b/warmup`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 503);
  await eventually(async () => of(await events(), 'llm_warmup_failed', 'llama-3-8b').length === before + 1, 3000, 'the refusal in the audit trail');
  const recorded = of(await events(), 'llm_warmup_failed', 'llama-3-8b');
  assert.match(recorded.at(-1)!.reason, /not at ready state/);
  await eventually(() => stack.app.services.registry.get('llama-3-8b')!.state === 'ready', 5000, 'llama back in service');
  stack.sim.clearFaults();
});

test('a warm-up slower than its latency budget fails with that reason', async () => {
  const entry = stack.app.services.registry.get('qwen3')!;
  // qwen3's warm-up budget is 300 ms; its first token now takes 800.
  stack.sim.setFault('qwen3-vllm', { kind: 'slow-first-token', ms: 800, firstN: 1 });
  const res = await fetch(`${stack.url}/admin/models/qwen3/warmup`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 503);
  await eventually(async () => /latency budget/.test(of(await events(), 'llm_warmup_failed', 'qwen3').at(-1)?.reason ?? ''), 3000, 'the slow warm-up event');
  const failed = of(await events(), 'llm_warmup_failed', 'qwen3').at(-1)!;
  assert.equal(failed.latency_budget_ms, 300);
  assert.match(failed.reason, /latency budget of 300 ms/);
  stack.sim.clearFaults();
  await eventually(() => entry.state === 'ready', 5000, 'qwen3 back in service');
});
