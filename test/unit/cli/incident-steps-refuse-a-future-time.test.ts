/**
 * detect, mitigate and resolve refuse an --at later than now (exit 1, nothing recorded): a
 * time in the future would give a negative or invented time to detect or resolve. The clock
 * is the CLI's, set by the test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cli } from './run-cli.js';

const now = new Date('2026-03-01T15:00:00Z');
const clock = { now: () => now };
let dir: string;
let env: Record<string, string>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'incident-future-'));
  env = { TRITON_GATEWAY_INCIDENT_LOG: join(dir, 'incidents.jsonl'), USER: 'oncall-alice' };
});
after(() => rm(dir, { recursive: true, force: true }));

async function show(id: string): Promise<Record<string, unknown>> {
  const run = await cli(['ops', 'incident', 'show', id, '--json'], { env, cwd: dir, ...clock });
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

test('each step refuses a time after now and records nothing', async () => {
  const opened = await cli(['ops', 'incident', 'open', '--sev', 'SEV2', '--title', 'errors', '--started-at', '2026-03-01T14:00:00Z', '--json'], { env, cwd: dir, ...clock });
  assert.equal(opened.code, 0, opened.stderr);
  const id = (JSON.parse(opened.stdout) as { id: string }).id;

  const early = await cli(['ops', 'incident', 'detect', id, '--at', '2026-03-01T15:05:00Z'], { env, cwd: dir, ...clock });
  assert.equal(early.code, 1);
  assert.match(early.stderr, /--at is in the future/);
  assert.equal((await show(id)).detected_at, null);

  assert.equal((await cli(['ops', 'incident', 'detect', id, '--at', '2026-03-01T14:10:00Z'], { env, cwd: dir, ...clock })).code, 0);
  for (const step of ['mitigate', 'resolve']) {
    const run = await cli(['ops', 'incident', step, id, '--at', '2026-03-01T15:00:01Z'], { env, cwd: dir, ...clock });
    assert.equal(run.code, 1, `${step}: ${run.stdout}`);
    assert.match(run.stderr, /--at is in the future/);
  }
  const inc = await show(id);
  assert.equal(inc.mitigated_at, null);
  assert.equal(inc.resolved_at, null);
  // Now itself is not the future.
  assert.equal((await cli(['ops', 'incident', 'resolve', id, '--at', now.toISOString()], { env, cwd: dir, ...clock })).code, 0);
  assert.equal((await show(id)).time_to_resolve_ms, 50 * 60_000);
});
