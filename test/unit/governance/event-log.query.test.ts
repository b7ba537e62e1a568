/**
 * Reading the governance event log back with a query: `limit` keeps the newest matches (still
 * oldest first), and `since`/`until` include an event recorded at exactly that time.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventLog } from '../../../src/governance/event-log.js';
import { SCHEMA_VERSION, type GovernanceEvent } from '../../../src/governance/events.js';

const times = ['2026-03-01T10:00:00.000Z', '2026-03-01T11:00:00.000Z', '2026-03-01T12:00:00.000Z', '2026-03-01T13:00:00.000Z'];

function waiverAt(at: string, i: number, model = 'llama-3-8b'): GovernanceEvent {
  return {
    schema_version: SCHEMA_VERSION,
    id: `e${i}`,
    at,
    instance: 'test:1',
    event: 'llm_waiver_recorded',
    waiver_id: `w${i}`,
    model,
    signal: 'cost',
    reason: 'launch week',
    actor: 'carol',
    expires_at: '2026-03-02T00:00:00.000Z',
  };
}

let dir: string;
let log: EventLog;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'event-log-query-'));
  log = new EventLog(join(dir, 'events.jsonl'));
  await log.open();
  for (const [i, at] of times.entries()) await log.append(waiverAt(at, i));
  await log.append(waiverAt(times[3]!, 9, 'qwen3'));
});
after(async () => {
  await log.close();
  await rm(dir, { recursive: true, force: true });
});

const ids = (read: { events: GovernanceEvent[] }): string[] => read.events.map((e) => e.id);

test('limit keeps the newest matching events, oldest first', async () => {
  assert.deepEqual(ids(await log.read({ limit: 2 })), ['e3', 'e9']);
  assert.deepEqual(ids(await log.read({ limit: 2, model: 'llama-3-8b' })), ['e2', 'e3']);
  assert.deepEqual(ids(await log.read({ limit: 100, model: 'llama-3-8b' })), ['e0', 'e1', 'e2', 'e3']);
});

test('since and until are inclusive', async () => {
  assert.deepEqual(ids(await log.read({ since: times[1], model: 'llama-3-8b' })), ['e1', 'e2', 'e3']);
  assert.deepEqual(ids(await log.read({ until: times[1] })), ['e0', 'e1']);
  assert.deepEqual(ids(await log.read({ since: times[2], until: times[2] })), ['e2']);
  // The same instant written with an offset is the same instant.
  assert.deepEqual(ids(await log.read({ since: '2026-03-01T13:00:00+01:00', until: '2026-03-01T13:00:00+01:00' })), ['e2']);
});
