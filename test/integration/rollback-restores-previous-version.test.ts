/**
 * Rollback against the simulator's model repository (explicit model control): the target version
 * is loaded with a version_policy override, warmed up, traffic is pinned to it and only then
 * llm_rollback_completed is recorded; afterwards Triton serves only that version and requests
 * carry it. Failed rollbacks (a version not in the repository, a target that fails its warm-up)
 * leave the serving version serving and say why.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const TOKEN = 'admin-token-for-rollback-tests';
const TRITON_MODEL = 'llama-3-8b-trtllm';
let stack: Stack;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollback-'));
  stack = await startStack({
    sim: {
      models: [
        {
          name: TRITON_MODEL,
          flavour: 'ensemble',
          versions: [1, 2],
          parameters: { quantisation: 'fp8' },
          versionParameters: { '1': { engine_hash: 'sha256:v1-engine' }, '2': { engine_hash: 'sha256:v2-engine', quantisation: 'fp8-kv' } },
        },
      ],
    },
    config: {
      // A short warm-up budget, so that a slow target fails its warm-up quickly.
      models: [{ name: 'llama-3-8b', tritonModel: TRITON_MODEL, warmup: { prompt: 'Say hello.', maxTokens: 4, latencyBudgetMs: 500 } }],
      auth: { adminToken: TOKEN },
      governance: { eventLog: join(dir, 'events.jsonl'), enginePollMs: 0 },
    },
  });
});
after(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

async function rollback(body: unknown, actor?: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${stack.url}/admin/models/llama-3-8b/rollback`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(actor ? { 'x-actor': actor } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function events(): Promise<GovernanceEvent[]> {
  const res = await fetch(`${stack.url}/admin/events?limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { events: GovernanceEvent[] }).events;
}

async function complete(): Promise<void> {
  const res = await fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3-8b', prompt: 'hello there', max_tokens: 3 }) });
  assert.equal(res.status, 200, await res.text());
}

const readyVersions = () => stack.sim.state().models[TRITON_MODEL]!.readyVersions;

test('rolls back to version 1: loaded, warmed up, pinned, recorded with both manifests and the actor', async () => {
  assert.deepEqual(readyVersions(), ['2']);
  const res = await rollback({ version: '1', reason: 'v2 regressed on tokenisation' }, 'alice@example.com');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const event = res.body.rollback;
  assert.equal(event.event, 'llm_rollback_completed');
  assert.equal(event.from_version, '2');
  assert.equal(event.to_version, '1');
  assert.equal(event.actor, 'alice@example.com');
  assert.equal(event.reason, 'v2 regressed on tokenisation');
  assert.deepEqual(
    [event.previous.version, event.previous.engine_hash, event.previous.quantisation],
    ['2', 'sha256:v2-engine', 'fp8-kv'],
  );
  assert.deepEqual([event.restored.version, event.restored.engine_hash, event.restored.quantisation], ['1', 'sha256:v1-engine', 'fp8']);
  assert.equal(event.warning, null);

  // Triton now serves only the restored version.
  assert.deepEqual(readyVersions(), ['1']);

  // The rollback was recorded only after the restored version's warm-up passed.
  const log = await events();
  const rbIndex = log.findIndex((e) => e.event === 'llm_rollback_completed');
  const warmups = log.slice(0, rbIndex).filter((e) => e.event === 'llm_warmup_completed');
  assert.equal(warmups.at(-1)!.event === 'llm_warmup_completed' && warmups.at(-1)!.version, '1');
  assert.equal(log.filter((e) => e.event === 'llm_engine_published' && e.engine.version === '1').length, 0, 'a rollback target is restored, not published');

  // Traffic now hits version 1, and the completion log line names its engine.
  stack.sim.reset();
  await complete();
  const sent = stack.sim.received().filter((r) => r.model === TRITON_MODEL);
  assert.deepEqual(sent.map((r) => r.version), ['1']);
  await eventually(() => stack.logs.find('request completed').length > 0, 2000, 'completion log line');
  assert.equal(stack.logs.find('request completed').at(-1)!.engine_hash, 'sha256:v1-engine');

  const engine = await fetch(`${stack.url}/admin/models/llama-3-8b/engine`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await engine.json()) as { pinned_version: string; engine: { engine_hash: string }; state: string };
  assert.equal(body.pinned_version, '1');
  assert.equal(body.engine.engine_hash, 'sha256:v1-engine');
  assert.equal(body.state, 'ready');
});

/** The failed rollbacks in the event log, the fields an auditor reads. */
async function failures(): Promise<Array<Record<string, unknown>>> {
  return (await events()).flatMap((e) =>
    e.event === 'llm_rollback_failed' ? [{ to_version: e.to_version, stage: e.stage, status: e.status, error_code: e.error_code, serving_version: e.serving_version, actor: e.actor }] : [],
  );
}

test('a version that is not in the repository fails at load; version 1 keeps serving', async () => {
  const res = await rollback({ version: 9 }, 'carol');
  assert.equal(res.status, 409);
  assert.equal(res.body.error.code, 'rollback_failed');
  assert.match(res.body.error.message, /version 9 is not in the model repository/);
  assert.match(res.body.error.message, /version 1 is still serving/);
  assert.deepEqual(res.body.rollback, { stage: 'load', serving_version: '1' });
  assert.deepEqual(readyVersions(), ['1']);
  // The attempt is in the audit trail, not only the rollbacks that worked.
  assert.deepEqual(await failures(), [{ to_version: '9', stage: 'load', status: 409, error_code: 'rollback_failed', serving_version: '1', actor: 'carol' }]);
  stack.sim.reset();
  await complete();
  assert.deepEqual(stack.sim.received().map((r) => r.version), ['1']);
});

test('a target that fails its warm-up is unloaded again and traffic never moves; then the roll forward works', async () => {
  stack.sim.setFault(TRITON_MODEL, { kind: 'error', code: 'INTERNAL', message: 'engine v2 corrupt', firstN: 1 });
  const failed = await rollback({ version: '2' });
  assert.equal(failed.status, 409);
  assert.equal(failed.body.rollback.stage, 'warmup');
  assert.match(failed.body.error.message, /Version 2 failed its warm-up \(.*engine v2 corrupt\); version 1 is still serving/);
  assert.deepEqual(readyVersions(), ['1']);
  assert.equal(stack.app.services.registry.get('llama-3-8b')!.servedVersion, '1');
  const warmFail = (await events()).filter((e) => e.event === 'llm_warmup_failed');
  assert.equal(warmFail.length, 1);
  assert.equal(warmFail[0]!.event === 'llm_warmup_failed' && warmFail[0]!.version, '2');
  assert.equal((await events()).filter((e) => e.event === 'llm_rollback_completed').length, 1, 'no event for a failed rollback');
  stack.sim.clearFaults();
  stack.sim.reset();
  await complete();
  assert.deepEqual(stack.sim.received().map((r) => r.version), ['1']);

  const forward = await rollback({ version: '2' }, 'bob');
  assert.equal(forward.status, 200, JSON.stringify(forward.body));
  assert.equal(forward.body.rollback.previous.engine_hash, 'sha256:v1-engine');
  assert.equal(forward.body.rollback.restored.engine_hash, 'sha256:v2-engine');
  assert.deepEqual(readyVersions(), ['2']);
  stack.sim.reset();
  await complete();
  assert.deepEqual(stack.sim.received().map((r) => r.version), ['2']);
});

test('a Triton that cannot serve (not ready, or unavailable for the warm-up) is a 503 that does not claim the old version still serves', async () => {
  assert.deepEqual(readyVersions(), ['2']);
  stack.sim.setServerReady(false);
  try {
    const notReady = await rollback({ version: '1' });
    assert.equal(notReady.status, 503, JSON.stringify(notReady.body));
    assert.equal(notReady.body.error.code, 'rollback_upstream_unavailable');
    assert.equal(notReady.body.rollback.stage, 'load');
    assert.match(notReady.body.error.message, /Server not ready; Triton is unavailable, so no version may be serving until it recovers \(this replica keeps version 2 pinned\)/);
  } finally {
    stack.sim.setServerReady(true);
  }
  assert.deepEqual(readyVersions(), ['2'], 'nothing was loaded');

  // Triton answering the warm-up as it does while it stops or restarts (on a stream only the text survives).
  stack.sim.setFault(TRITON_MODEL, { kind: 'error', code: 'UNAVAILABLE', message: 'Server not ready', firstN: 1 });
  const unavailable = await rollback({ version: '1' });
  stack.sim.clearFaults();
  assert.equal(unavailable.status, 503, JSON.stringify(unavailable.body));
  assert.equal(unavailable.body.rollback.stage, 'warmup');
  assert.doesNotMatch(unavailable.body.error.message, /is still serving/);
  assert.deepEqual(readyVersions(), ['2'], 'the target was unloaded again');
  assert.deepEqual((await failures()).slice(-2).map((f) => [f.stage, f.status, f.error_code]), [
    ['load', 503, 'rollback_upstream_unavailable'],
    ['warmup', 503, 'rollback_upstream_unavailable'],
  ]);
});

test('a target too slow for its warm-up budget is refused (409) and the serving version still serves', async () => {
  assert.deepEqual(readyVersions(), ['2']);
  stack.sim.setFault(TRITON_MODEL, { kind: 'slow-first-token', ms: 1500, firstN: 1 });
  const slow = await rollback({ version: '1' });
  stack.sim.clearFaults();
  assert.equal(slow.status, 409, JSON.stringify(slow.body));
  assert.match(slow.body.error.message, /Version 1 failed its warm-up \(exceeded its latency budget of 500 ms\); version 2 is still serving/);
  assert.deepEqual(readyVersions(), ['2']);
});

test('bad requests: no token 401, a non-numeric version 400, an unknown model 404', async () => {
  const before = (await failures()).length;
  const noToken = await fetch(`${stack.url}/admin/models/llama-3-8b/rollback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"version":"1"}' });
  assert.equal(noToken.status, 401);
  assert.equal((await rollback({ version: 'latest' })).status, 400);
  const huge = await rollback({ version: '1'.repeat(23) });
  assert.equal(huge.status, 400, 'a version no number can hold is refused, not rounded');
  assert.equal((await rollback({})).status, 400);
  const unknown = await fetch(`${stack.url}/admin/models/nope/rollback`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"version":"1"}' });
  assert.equal(unknown.status, 404);
  assert.equal((await failures()).length, before, 'a request that was itself wrong attempted nothing and records nothing');
});
