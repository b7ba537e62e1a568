/**
 * `ops postmortem` takes governance events from --lookback-minutes (default 60) before the
 * incident's start: an event 30 minutes before it is in the default window and out of a
 * 10-minute one. The clock is the CLI's, set by the test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventLog } from '../../../src/governance/event-log.js';
import { SCHEMA_VERSION } from '../../../src/governance/events.js';
import { cli } from './run-cli.js';

const now = new Date('2026-03-01T15:00:00Z');
const clock = { now: () => now };
let dir: string;
let env: Record<string, string>;
let id: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'postmortem-lookback-'));
  env = { TRITON_GATEWAY_INCIDENT_LOG: join(dir, 'incidents.jsonl'), GATEWAY_EVENT_LOG: join(dir, 'events.jsonl'), USER: 'oncall-alice' };
  const log = new EventLog(env.GATEWAY_EVENT_LOG!);
  await log.open();
  // Recorded at 14:10, 30 minutes before the impact began at 14:40.
  await log.append({
    schema_version: SCHEMA_VERSION,
    id: 'ev-1',
    at: '2026-03-01T14:10:00.000Z',
    instance: 'test:1',
    event: 'llm_waiver_recorded',
    waiver_id: 'w-1',
    model: 'llama-3-8b',
    signal: 'cost',
    reason: 'load test before the launch',
    actor: 'bob',
    expires_at: '2026-03-02T00:00:00.000Z',
  });
  await log.close();
  const opened = await cli(['ops', 'incident', 'open', '--sev', 'SEV3', '--title', 'slow answers', '--started-at', '2026-03-01T14:40:00Z', '--json'], { env, cwd: dir, ...clock });
  assert.equal(opened.code, 0, opened.stderr);
  id = (JSON.parse(opened.stdout) as { id: string }).id;
});
after(() => rm(dir, { recursive: true, force: true }));

async function timeline(extra: string[]): Promise<string> {
  const pm = await cli(['ops', 'postmortem', id, ...extra], { env, cwd: dir, ...clock });
  assert.equal(pm.code, 0, pm.stderr);
  return pm.stdout.slice(pm.stdout.indexOf('## Timeline'), pm.stdout.indexOf('## Root cause'));
}

test('by default the timeline has the governance events of the hour before the start', async () => {
  assert.match(await timeline([]), /llm_waiver_recorded: cost on llama-3-8b accepted by bob/);
});

test('--lookback-minutes is in minutes: 31 takes the event, 10 leaves it out', async () => {
  assert.match(await timeline(['--lookback-minutes', '31']), /llm_waiver_recorded/);
  assert.doesNotMatch(await timeline(['--lookback-minutes', '10']), /llm_waiver_recorded/);
});
