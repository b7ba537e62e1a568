/**
 * The incident commands end to end in a temp directory: open/detect/mitigate/resolve with
 * explicit times give the right time to detect and time to resolve, list shows them, and the
 * post-mortem renders the repository's template with the incident and the governance events
 * recorded in its window.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventLog } from '../../../src/governance/event-log.js';
import { GovernanceRecorder } from '../../../src/governance/recorder.js';
import { cli } from './run-cli.js';

let dir: string;
let env: Record<string, string>;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const base = Date.now();
const minutesAgo = (m: number) => new Date(base - m * 60_000).toISOString();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'incident-cli-'));
  env = { TRITON_GATEWAY_INCIDENT_LOG: join(dir, 'incidents.jsonl'), GOVERNANCE_EVENT_LOG: join(dir, 'events.jsonl'), USER: 'oncall-alice' };
});
after(() => rm(dir, { recursive: true, force: true }));

const engine = (version: string, hash: string) => ({ model: 'llama-3-8b', triton_model: 'llama-3-8b-trtllm', target: 'primary', version, engine_hash: hash, quantisation: 'fp8', manifest: null, source: 'triton' as const });

test('open → detect → mitigate → resolve computes time to detect and time to resolve from the given times', async () => {
  const opened = await cli(['ops', 'incident', 'open', '--sev', 'sev2', '--title', 'llama-3-8b returns 5xx', `--started-at=${minutesAgo(40)}`, '--json'], { env, cwd: dir });
  assert.equal(opened.code, 0, opened.stderr);
  const id = (JSON.parse(opened.stdout) as { id: string }).id;
  assert.match(id, /^INC-\d{8}-[0-9a-f]{6}$/);

  const early = await cli(['ops', 'incident', 'resolve', id], { env, cwd: dir });
  assert.equal(early.code, 1);
  assert.match(early.stderr, /has no detection time: run 'ops incident detect/);

  const detected = await cli(['ops', 'incident', 'detect', id, `--at=${minutesAgo(32)}`, '--by', 'HighErrorRate alert'], { env, cwd: dir });
  assert.equal(detected.code, 0, detected.stderr);
  assert.match(detected.stdout, /time to detect 8m 00s/);

  // The governance events an incident review cites, recorded by a "gateway" meanwhile.
  const recorder = new GovernanceRecorder(new EventLog(env.GOVERNANCE_EVENT_LOG!), quiet);
  await recorder.open();
  await recorder.record({ event: 'llm_rollback_completed', model: 'llama-3-8b', from_version: '2', to_version: '1', previous: engine('2', 'sha256:bad'), restored: engine('1', 'sha256:good'), actor: 'oncall-alice', reason: 'v2 5xx', warmup_duration_ms: 12, warning: null });
  await recorder.close();

  assert.equal((await cli(['ops', 'incident', 'note', id, 'rolled llama back to version 1'], { env, cwd: dir })).code, 0);
  assert.equal((await cli(['ops', 'incident', 'mitigate', id, '--note', 'error rate back to normal'], { env, cwd: dir })).code, 0);
  const resolved = await cli(['ops', 'incident', 'resolve', id, '--root-cause', 'engine v2 was built against the wrong tokenizer', '--json'], { env, cwd: dir });
  assert.equal(resolved.code, 0, resolved.stderr);
  const inc = JSON.parse(resolved.stdout) as Record<string, number | string>;
  assert.equal(inc.status, 'resolved');
  assert.equal(inc.time_to_detect_ms, 8 * 60_000);
  assert.equal(inc.time_to_resolve_ms, Date.parse(inc.resolved_at as string) - Date.parse(inc.detected_at as string));
  assert.ok((inc.time_to_resolve_ms as number) >= 32 * 60_000);

  const list = await cli(['ops', 'incident', 'list'], { env, cwd: dir });
  assert.equal(list.stdout.trim(), 'no open incidents');
  const all = await cli(['ops', 'incident', 'list', '--all'], { env, cwd: dir });
  assert.match(all.stdout, new RegExp(`${id} {2}SEV2 {2}resolved .* ttd 8m 00s .* llama-3-8b returns 5xx`));

  const pm = await cli(['ops', 'postmortem', id, '--authors', '@alice', '--out', 'review.md'], { env, cwd: dir });
  assert.equal(pm.code, 0, pm.stderr);
  assert.doesNotMatch(pm.stderr, /warning/);
  const review = await readFile(join(dir, 'review.md'), 'utf8');
  assert.match(review, /^# Post-incident review: llama-3-8b returns 5xx/);
  assert.match(review, /\(time to detect: 8m 00s\)/);
  assert.match(review, /\| Severity \| SEV2 \|/);
  assert.match(review, /## Root cause\n\nengine v2 was built against the wrong tokenizer/);
  const timeline = review.slice(review.indexOf('## Timeline'), review.indexOf('## Root cause'));
  const entries = timeline.split('\n').filter((l) => l.startsWith('- '));
  const order = ['impact began', 'detected by HighErrorRate alert', 'incident ' + id + ' opened', 'llm_rollback_completed: llama-3-8b rolled back from version 2 to 1 by oncall-alice', 'rolled llama back to version 1 (oncall-alice)', 'mitigated', 'resolved'];
  let at = -1;
  for (const text of order) {
    const i = entries.findIndex((e) => e.includes(text));
    assert.ok(i > at, `timeline entry '${text}' in order:\n${entries.join('\n')}`);
    at = i;
  }
  assert.match(review, /- llama-3-8b rolled back from version 2 to 1 at .* \(llm_rollback_completed .*, by oncall-alice\)\./);
  assert.doesNotMatch(review, /\{\{/);
});

test('unknown incidents and refused transitions are clear errors (exit 1)', async () => {
  const run = await cli(['ops', 'incident', 'detect', 'INC-20990101-000000'], { env, cwd: dir });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /no incident 'INC-20990101-000000'/);
  const future = await cli(['ops', 'incident', 'open', '--sev', 'SEV4', '--title', 'x', '--started-at', '2999-01-01T00:00:00Z'], { env, cwd: dir });
  assert.equal(future.code, 1);
  assert.match(future.stderr, /in the future/);
  const pm = await cli(['ops', 'postmortem', 'INC-20990101-000000'], { env, cwd: dir });
  assert.equal(pm.code, 1);
});
