/**
 * Rolling back restores an engine (it served before, even if the event log starts after it did);
 * rolling forward to a version newer than the serving one, whose engine the log has never seen,
 * puts a new engine into service, so it is published like one the poll finds, before the
 * rollback's own event. The runbooks find rollback targets from the published engines.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { startStack, type Stack } from '../helpers/stack.js';

const TOKEN = 'admin-token-for-roll-forward-tests';
const TRITON_MODEL = 'llama-3-8b-trtllm';
let stack: Stack;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roll-forward-'));
  stack = await startStack({
    sim: {
      models: [
        {
          name: TRITON_MODEL,
          flavour: 'ensemble',
          versions: [1, 2, 3],
          versionParameters: { '1': { engine_hash: 'sha256:v1' }, '2': { engine_hash: 'sha256:v2' }, '3': { engine_hash: 'sha256:v3' } },
        },
      ],
    },
    config: {
      models: [{ name: 'llama-3-8b', tritonModel: TRITON_MODEL }],
      auth: { adminToken: TOKEN },
      governance: { eventLog: join(dir, 'events.jsonl'), enginePollMs: 0 },
    },
  });
});
after(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

async function rollback(version: string): Promise<void> {
  const res = await fetch(`${stack.url}/admin/models/llama-3-8b/rollback`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ version }),
  });
  assert.equal(res.status, 200, await res.text());
}

async function engineEvents(): Promise<string[]> {
  const res = await fetch(`${stack.url}/admin/events?limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { events: GovernanceEvent[] }).events.flatMap((e) => {
    if (e.event === 'llm_engine_published') return [`published ${e.engine.engine_hash} after ${e.previous?.engine_hash ?? 'none'}`];
    if (e.event === 'llm_rollback_completed') return [`rollback ${e.from_version} -> ${e.to_version}`];
    return [];
  });
}

test('back restores, forward to an engine never seen publishes it, forward to one seen does not', async () => {
  assert.deepEqual(await engineEvents(), ['published sha256:v3 after none']);
  await rollback('1');
  await rollback('2');
  await rollback('3');
  assert.deepEqual(await engineEvents(), [
    'published sha256:v3 after none',
    'rollback 3 -> 1',
    'published sha256:v2 after sha256:v1',
    'rollback 1 -> 2',
    'rollback 2 -> 3',
  ]);
});
