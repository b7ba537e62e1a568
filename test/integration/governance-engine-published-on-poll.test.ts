/**
 * A new engine noticed while polling: Triton starts serving another version behind the gateway's
 * back (someone loads it on Triton directly); the poll sees the changed engine, the registry
 * re-warms it, llm_engine_published is recorded once for the newly seen engine (with the previous
 * one), and the completion log line names it. Going back to an engine already on record warms up
 * again but publishes nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { TritonClient } from '../../src/triton/client.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const TOKEN = 'admin-token-for-engine-poll-test';
const MODEL = 'qwen3-vllm';
let stack: Stack;
let dir: string;
let triton: TritonClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engine-poll-'));
  stack = await startStack({
    sim: {
      models: [{ name: MODEL, flavour: 'vllm', versions: [3, 4], versionParameters: { '3': { engine_hash: 'sha256:three' }, '4': { engine_hash: 'sha256:four' } } }],
    },
    config: {
      models: [{ name: 'qwen3', tritonModel: MODEL }],
      auth: { adminToken: TOKEN },
      governance: { eventLog: join(dir, 'events.jsonl'), enginePollMs: 100 },
    },
  });
  triton = new TritonClient({ target: stack.sim.grpcAddress });
});
after(async () => {
  triton?.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

async function events(): Promise<GovernanceEvent[]> {
  const res = await fetch(`${stack.url}/admin/events?limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { events: GovernanceEvent[] }).events;
}

const published = (list: GovernanceEvent[]) => list.filter((e): e is Extract<GovernanceEvent, { event: 'llm_engine_published' }> => e.event === 'llm_engine_published');
const warmedVersions = (list: GovernanceEvent[]) => list.flatMap((e) => (e.event === 'llm_warmup_completed' ? [e.version] : []));

test('a version loaded on Triton directly is noticed, published once, warmed up and named in the log line', async () => {
  await eventually(async () => published(await events()).length === 1, 3000, 'the start-up publish');
  assert.equal(published(await events())[0]!.engine.engine_hash, 'sha256:four');

  await triton.loadModel(MODEL, { config: { version_policy: { specific: { versions: [3] } } } });
  await eventually(async () => published(await events()).length === 2, 5000, 'the poll to publish version 3');
  const p = published(await events())[1]!;
  assert.deepEqual([p.engine.version, p.engine.engine_hash], ['3', 'sha256:three']);
  assert.deepEqual([p.previous?.version, p.previous?.engine_hash], ['4', 'sha256:four']);
  await eventually(async () => warmedVersions(await events()).includes('3'), 3000, 'version 3 warmed up');

  const res = await fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen3', prompt: 'hi', max_tokens: 2 }) });
  assert.equal(res.status, 200);
  await eventually(() => stack.logs.find('request completed').length > 0, 2000, 'completion log line');
  assert.equal(stack.logs.find('request completed').at(-1)!.engine_hash, 'sha256:three');

  // Back to version 4: warmed up again (the engine changed), but it was published before.
  await triton.loadModel(MODEL, { config: { version_policy: { specific: { versions: [4] } } } });
  await eventually(async () => warmedVersions(await events()).filter((v) => v === '4').length === 2, 5000, 'version 4 warmed up again');
  assert.equal(published(await events()).length, 2);
});
