/**
 * The event log across a restart and a crash: every event of the first gateway is still there
 * for the second one, in order; a torn last line (a write cut short by a crash) is reported and
 * skipped, and new events after it stay readable; what the log knows (engines already published,
 * active waivers) is not recorded again. The governance webhook received the events as well.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const TOKEN = 'admin-token-for-event-log-test';
let dir: string;
let hook: Server;
const delivered: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'event-log-restart-'));
  hook = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    delivered.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id);
    res.end();
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await new Promise((resolve) => hook.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function start(): Promise<Stack> {
  return startStack({
    config: {
      auth: { adminToken: TOKEN },
      governance: { eventLog: join(dir, 'events.jsonl'), enginePollMs: 0, webhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/events` },
    },
  });
}

async function read(stack: Stack): Promise<{ events: GovernanceEvent[]; skipped_lines: Array<{ line: number }>; torn_last_line: unknown }> {
  const res = await fetch(`${stack.url}/admin/events?limit=10000`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as { events: GovernanceEvent[]; skipped_lines: Array<{ line: number }>; torn_last_line: unknown };
}

test('nothing is lost across a restart, and a torn last line from a crash is reported and skipped', async () => {
  const first = await start();
  let firstEvents: GovernanceEvent[];
  try {
    await eventually(async () => (await read(first)).events.filter((e) => e.event === 'llm_warmup_completed').length === 2, 5000, 'both warm-ups');
    const waiver = await fetch(`${first.url}/admin/waivers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3', signal: 'queue_delay', reason: 'batch backfill tonight', expires_in_minutes: 120 }),
    });
    assert.equal(waiver.status, 201);
    firstEvents = (await read(first)).events;
    assert.deepEqual(firstEvents.map((e) => e.event).sort(), ['llm_engine_published', 'llm_engine_published', 'llm_waiver_recorded', 'llm_warmup_completed', 'llm_warmup_completed']);
  } finally {
    await first.close();
  }
  // close() flushed the webhook queue: it has every event of the first gateway.
  assert.deepEqual([...delivered].sort(), firstEvents.map((e) => e.id).sort());

  // A crash in the middle of an append leaves half a line.
  await appendFile(join(dir, 'events.jsonl'), '{"schema_version":1,"id":"cut-short","at":"2025-11-18T14:');

  const second = await start();
  try {
    assert.ok(second.logs.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('torn line') && l.torn_bytes === 57), 'the torn line is reported at start-up');
    await eventually(async () => (await read(second)).events.filter((e) => e.event === 'llm_warmup_completed').length === 4, 5000, 'the second start-up warm-ups');
    const after = await read(second);
    // Every event of the first run, in the same order, at the start of the log.
    assert.deepEqual(after.events.slice(0, firstEvents.length).map((e) => e.id), firstEvents.map((e) => e.id));
    // The torn fragment is one skipped line; the events after it are intact.
    assert.equal(after.skipped_lines.length, 1);
    assert.equal(after.skipped_lines[0]!.line, firstEvents.length + 1);
    assert.equal(after.torn_last_line, null);
    // Known engines are not published again; the waiver is still active.
    assert.equal(after.events.filter((e) => e.event === 'llm_engine_published').length, 2);
    const waivers = await fetch(`${second.url}/admin/waivers`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(((await waivers.json()) as { waivers: Array<{ model: string }> }).waivers.map((w) => w.model), ['qwen3']);
  } finally {
    await second.close();
  }

  const lines = (await readFile(join(dir, 'events.jsonl'), 'utf8')).split('\n').filter((l) => l.length > 0);
  const unparseable = lines.filter((l) => {
    try {
      JSON.parse(l);
      return false;
    } catch {
      return true;
    }
  });
  assert.deepEqual(unparseable, ['{"schema_version":1,"id":"cut-short","at":"2025-11-18T14:']);
});
