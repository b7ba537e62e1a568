/**
 * The runbooks roll a model back on every gateway pod in turn (each-gateway-pod.sh), but the first
 * pod's rollback already changes Triton for all of them: it loads the target and unloads the other
 * versions. Two gateways on one simulator (real gRPC): the second pod's rollback must keep serving
 * while it runs (never pinning a version Triton unloaded), skip the load/unload when Triton is
 * already on the target, and record what actually happened.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseConfig } from '../../src/config.js';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { eventually, startGateway, startStack, waitReady, type Stack } from '../helpers/stack.js';

const TOKEN = 'admin-token-for-rollback-tests';
const TRITON_MODEL = 'llama-3-8b-trtllm';
const ENGINES = { '1': { engine_hash: 'sha256:v1-engine' }, '2': { engine_hash: 'sha256:v2-engine' }, '3': { engine_hash: 'sha256:v3-engine' } };

type Replica = Awaited<ReturnType<typeof startGateway>>;

/** Replica A with its own simulator, and replica B: another gateway on the same simulator. */
async function twoReplicas(t: TestContext, versions: number[], pin = ''): Promise<{ a: Stack; b: Replica; readyVersions: () => string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'rollback-replicas-'));
  const model = { name: 'llama-3-8b', tritonModel: TRITON_MODEL, version: pin };
  // A slow first token makes each warm-up, and so each rollback, last long enough to send requests during it.
  const a = await startStack({
    sim: { latency: { timeToFirstTokenMs: 150 }, models: [{ name: TRITON_MODEL, flavour: 'ensemble', versions, versionParameters: ENGINES }] },
    config: { models: [model], auth: { adminToken: TOKEN }, governance: { eventLog: join(dir, 'a.jsonl'), enginePollMs: 0 } },
  });
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    triton: { targets: [{ name: 'primary', grpc: a.sim.grpcAddress }], healthIntervalMs: 200, warmupRetryMaxMs: 1000 },
    models: [model],
    auth: { adminToken: TOKEN },
    governance: { eventLog: join(dir, 'b.jsonl'), enginePollMs: 0 },
  });
  const b = await startGateway(config);
  t.after(async () => {
    await b.app.close();
    await a.close();
    await rm(dir, { recursive: true, force: true });
  });
  await waitReady(b.url);
  return { a, b, readyVersions: () => a.sim.state().models[TRITON_MODEL]!.readyVersions };
}

async function rollback(url: string, version: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${url}/admin/models/llama-3-8b/rollback`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ version, reason: 'regression' }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function complete(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3-8b', prompt: 'hello', max_tokens: 2 }) });
  const text = await res.text();
  return res.status === 200 ? '200' : `${res.status} ${text.slice(0, 200)}`;
}

/** Rolls back on `url` while two clients keep sending requests to it; returns the rollback and every status. */
async function rollbackUnderTraffic(url: string, version: string): Promise<{ result: Awaited<ReturnType<typeof rollback>>; statuses: string[] }> {
  let done = false;
  const statuses: string[] = [];
  const client = async () => {
    while (!done) statuses.push(await complete(url));
  };
  const clients = [client(), client()];
  const result = await rollback(url, version).finally(() => {
    done = true;
  });
  await Promise.all(clients);
  return { result, statuses };
}

async function rollbackEvents(url: string): Promise<GovernanceEvent[]> {
  const res = await fetch(`${url}/admin/events?limit=1000&type=llm_rollback_completed`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { events: GovernanceEvent[] }).events;
}

async function engine(url: string): Promise<{ pinned_version: string; engine: { version: string; engine_hash: string }; state: string }> {
  const res = await fetch(`${url}/admin/models/llama-3-8b/engine`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return (await res.json()) as { pinned_version: string; engine: { version: string; engine_hash: string }; state: string };
}

test('rollback on A then B: B keeps serving during its rollback, changes nothing in Triton and says so', async (t) => {
  const { a, b, readyVersions } = await twoReplicas(t, [1, 2]);
  assert.deepEqual(readyVersions(), ['2']);

  const first = await rollback(a.url, '1');
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual([first.body.rollback.from_version, first.body.rollback.to_version], ['2', '1']);
  assert.deepEqual(readyVersions(), ['1'], 'the first rollback changed Triton for every replica');

  const { result, statuses } = await rollbackUnderTraffic(b.url, '1');
  assert.equal(result.status, 200, JSON.stringify(result.body));
  assert.ok(statuses.length >= 2, `requests were sent during the rollback: ${statuses.length}`);
  assert.deepEqual(statuses.filter((s) => s !== '200'), [], 'no request failed on B during its rollback');
  assert.equal(first.body.rollback.already_on_target, false, 'A loaded and unloaded');

  // B was unpinned, so its requests reached Triton's latest ready version, already 1.
  const event = result.body.rollback;
  assert.equal(event.from_version, '1');
  assert.equal(event.to_version, '1');
  assert.equal(event.already_on_target, true);
  assert.deepEqual([event.previous.version, event.previous.engine_hash], ['1', 'sha256:v1-engine'], 'not the cached version 2 engine');
  assert.deepEqual([event.restored.version, event.restored.engine_hash], ['1', 'sha256:v1-engine']);
  assert.equal(event.warning, null);
  assert.deepEqual((await rollbackEvents(b.url)).map((e) => e.id), [event.id]);

  assert.deepEqual(readyVersions(), ['1']);
  const bEngine = await engine(b.url);
  assert.deepEqual([bEngine.pinned_version, bEngine.engine.engine_hash, bEngine.state], ['1', 'sha256:v1-engine', 'ready']);
  a.sim.reset();
  assert.equal(await complete(b.url), '200');
  assert.deepEqual(a.sim.received().filter((r) => r.model === TRITON_MODEL).map((r) => r.version), ['1']);

  // Running it again (a retried each-gateway-pod.sh) is a no-op that succeeds.
  const again = await rollback(a.url, '1');
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual([again.body.rollback.from_version, again.body.rollback.already_on_target], ['1', true]);
  assert.deepEqual(readyVersions(), ['1']);
});

test('a replica pinned to the version another replica unloaded re-pins to the target; its event names its pin', async (t) => {
  const { a, b, readyVersions } = await twoReplicas(t, [1, 2], '2');
  assert.equal((await rollback(a.url, '1')).status, 200);
  assert.deepEqual(readyVersions(), ['1']);

  const { result, statuses } = await rollbackUnderTraffic(b.url, '1');
  assert.equal(result.status, 200, JSON.stringify(result.body));
  const event = result.body.rollback;
  assert.deepEqual([event.from_version, event.to_version, event.already_on_target], ['2', '1', true]);
  assert.deepEqual([event.previous.version, event.previous.engine_hash], ['2', 'sha256:v2-engine']);
  assert.equal(event.restored.engine_hash, 'sha256:v1-engine');
  // Requests pinned to version 2 fail from A's unload until B's rollback starts (inherent to a
  // per-replica pin); B pins version 1 at its start, so the last ones must have passed.
  assert.equal(statuses.at(-1), '200', statuses.join('\n'));
  assert.equal(await complete(b.url), '200');
  assert.equal((await engine(b.url)).pinned_version, '1');
});

test('while the target loads, a pin to a version Triton no longer has moves to a version it has ready', async (t) => {
  // B is pinned to 3; A rolls Triton back to 2 (unloading 3); then B rolls back to 1.
  const { a, b, readyVersions } = await twoReplicas(t, [1, 2, 3], '3');
  assert.equal((await rollback(a.url, '2')).status, 200);
  assert.deepEqual(readyVersions(), ['2']);

  const pins: string[] = [];
  const watch = setInterval(() => void engine(b.url).then((e) => pins.push(e.pinned_version)), 20);
  const result = await rollback(b.url, '1').finally(() => clearInterval(watch));
  assert.equal(result.status, 200, JSON.stringify(result.body));
  assert.ok(pins.includes('2'), `B held traffic on version 2 while version 1 loaded: ${pins.join(',')}`);
  assert.deepEqual([result.body.rollback.from_version, result.body.rollback.to_version, result.body.rollback.already_on_target], ['3', '1', false]);
  assert.deepEqual(readyVersions(), ['1']);
  assert.equal(await complete(b.url), '200');
});

test('a failed roll forward whose restoring load fails too keeps an unpinned replica on the version it held, not on the failed target', async (t) => {
  // Triton serves version 2; A rolls back to 1. B, unpinned, then serves Triton's latest: 1.
  const { a, b, readyVersions } = await twoReplicas(t, [1, 2]);
  assert.equal((await rollback(a.url, '1')).status, 200);
  assert.deepEqual(readyVersions(), ['1']);
  // B rolls forward to 2. Its load is slow; meanwhile Triton stops being ready, so the target's
  // warm-up fails and so does the load that would restore Triton to version 1 alone.
  a.sim.setFault(TRITON_MODEL, { kind: 'slow-load', ms: 1_000 });
  const forward = rollback(b.url, '2');
  // The target's load has been accepted and is under way (the fault has met it).
  await eventually(() => a.sim.state().models[TRITON_MODEL]!.faultSeen === 1, 5000, "the target's load to start");
  a.sim.setServerReady(false);
  const result = await forward;
  assert.notEqual(result.status, 200, JSON.stringify(result.body));
  assert.deepEqual(readyVersions(), ['1', '2'], 'the target is loaded next to version 1: Triton\'s latest is now the failed target');
  a.sim.clearFaults();
  a.sim.setServerReady(true);
  await eventually(() => !b.app.services.registry.isTargetRefusing('primary'), 5000, 'B to see Triton ready again');
  const seq = a.sim.received().length;
  assert.equal(await complete(b.url), '200');
  const asked = a.sim.received().slice(seq).map((r) => r.version);
  assert.deepEqual(asked, ['1'], 'B still pins the version it held, not "latest" (the failed target)');
});
