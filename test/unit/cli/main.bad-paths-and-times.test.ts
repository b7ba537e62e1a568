/**
 * What the real bin (a child process) does with paths it cannot use and times that do not exist:
 * one line naming the path and exit 1 (never "unexpected error" and a stack trace), exit 2 for
 * a time, and `backup record` prints the backup it made before saying its event could not be
 * recorded (exit 1, as the event is not in the log `ops postmortem` reads).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeModelRepository } from '../../fixtures/model-repository.js';
import { cli, type CliRun } from './run-cli.js';
import { runBin } from '../../helpers/cli-bin.js';

let dir: string;
let repo: string;
let incidentLog: string;
let incidentId: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-bad-paths-'));
  repo = join(dir, 'model_repository');
  await makeModelRepository(repo, 1024);
  incidentLog = join(dir, 'incidents.jsonl');
  const opened = await cli(['ops', 'incident', 'open', '--sev', 'SEV3', '--title', 'slow answers', '--started-at=-30m', '--log', incidentLog]);
  assert.equal(opened.code, 0, opened.stderr);
  incidentId = opened.stdout.split(' ')[0]!;
});
after(() => rm(dir, { recursive: true, force: true }));

function bin(argv: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  return runBin(argv, { cwd: options.cwd ?? dir, env: options.env });
}

function oneLineFailure(run: CliRun, code: number, message: RegExp): void {
  assert.equal(run.code, code, run.stderr);
  assert.doesNotMatch(run.stderr, /unexpected error|\n\s+at /, 'no stack trace');
  assert.match(run.stderr.trimEnd().split('\n').at(-1)!, message);
}

test('backup record prints the backup it made, then fails because the event log cannot take its event', async () => {
  // /dev/full: every write fails with ENOSPC, a full disk without privileges.
  const full = await bin(['backup', 'record', repo, '--to', join(dir, 'copies-full'), '--event-log', '/dev/full']);
  oneLineFailure(full, 1, /^triton-gateway: backup (\S+) was made, but llm_backup_recorded is not in the event log .*\/dev\/full: .*ENOSPC/);
  const backupId = /^backup (\S+)$/m.exec(full.stdout)?.[1];
  assert.ok(backupId, full.stdout);
  assert.match(full.stdout, /^ {2}event {14}NOT RECORDED/m);
  assert.deepEqual(await readdir(join(dir, 'copies-full')), [backupId]);

  // The event log's folder cannot be created: the result is still printed, as JSON here.
  await writeFile(join(dir, 'a-file'), '');
  const noFolder = await bin(['backup', 'record', repo, '--to', join(dir, 'copies-nofolder'), '--event-log', join(dir, 'a-file', 'events.jsonl'), '--json']);
  oneLineFailure(noFolder, 1, new RegExp(`is not in the event log .*${join(dir, 'a-file', 'events.jsonl')}: E`));
  const result = JSON.parse(noFolder.stdout) as { ok: boolean; backup_id: string; event_id: string | null; event_error: string };
  assert.equal(result.ok, true);
  assert.equal(result.event_id, null);
  assert.match(result.event_error, /a-file/);
  assert.deepEqual(await readdir(join(dir, 'copies-nofolder')), [result.backup_id]);
});

test('a folder given as a log, or a review written into a missing folder: one line naming the path, exit 1', async () => {
  const folder = join(dir, 'a-folder');
  await mkdir(folder);
  await writeFile(join(dir, 'events.jsonl'), '');
  const [list, postmortemEvents, postmortemOut] = await Promise.all([
    bin(['ops', 'incident', 'list', '--log', folder]),
    bin(['ops', 'postmortem', incidentId, '--log', incidentLog, '--event-log', folder]),
    bin(['ops', 'postmortem', incidentId, '--log', incidentLog, '--event-log', join(dir, 'events.jsonl'), '--out', 'missing/review.md']),
  ]);
  oneLineFailure(list, 1, new RegExp(`^triton-gateway: ${folder}: EISDIR`));
  oneLineFailure(postmortemEvents, 1, new RegExp(`^triton-gateway: ${folder}: EISDIR`));
  oneLineFailure(postmortemOut, 1, new RegExp(`^triton-gateway: cannot write the review: ENOENT: .*${join(dir, 'missing', 'review.md')}`));
});

test('a backup destination with a scheme other than s3:// is a usage error before any work, not a local folder', async () => {
  const cwd = join(dir, 'scheme-dest');
  await mkdir(cwd);
  const events = join(cwd, 'events.jsonl');
  const run = await cli(['backup', 'record', repo, '--to', join(cwd, 'copies'), '--to', 'https://backups.example.com/llama', '--event-log', events], { cwd });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /unsupported destination 'https:\/\/backups\.example\.com\/llama'/);
  assert.doesNotMatch(run.stderr, /^hash /m, 'refused before hashing the repository');
  assert.deepEqual(await readdir(cwd), [], 'no https: folder, no copy to the good destination, no event');
});

test('ops postmortem with an event log that is not there: exit 2 naming it, not a review without governance events', async () => {
  const missing = join(dir, 'no-such-dir', 'events.jsonl');
  oneLineFailure(await bin(['ops', 'postmortem', incidentId, '--log', incidentLog, '--event-log', missing]), 2, new RegExp(`no governance event log at ${missing}`));
  // Named by the gateway's variable instead: as much a mistake.
  oneLineFailure(await bin(['ops', 'postmortem', incidentId, '--log', incidentLog], { env: { GATEWAY_EVENT_LOG: missing } }), 2, new RegExp(`no governance event log at ${missing}`));
  // The default path missing is only a warning: the review is still written.
  const cwd = join(dir, 'no-default-log');
  await mkdir(cwd);
  const run = await bin(['ops', 'postmortem', incidentId, '--log', incidentLog], { cwd, env: { GATEWAY_EVENT_LOG: '', GOVERNANCE_EVENT_LOG: '' } });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /warning: no governance event log at .*governance-events\.jsonl/);
  assert.match(run.stdout, /slow answers/);
});

test('an empty TRITON_GATEWAY_INCIDENT_LOG is unset: the default log, not the working folder', async () => {
  const cwd = join(dir, 'empty-env');
  await mkdir(cwd);
  const run = await bin(['ops', 'incident', 'open', '--sev', 'SEV4', '--title', 'typo'], { env: { TRITON_GATEWAY_INCIDENT_LOG: '' }, cwd });
  assert.equal(run.code, 0, run.stderr);
  assert.match(await readFile(join(cwd, 'data', 'incidents.jsonl'), 'utf8'), /"title":"typo"/);
});

test('a time out of range or a day that does not exist is refused with exit 2, not rolled over', async () => {
  const log = join(dir, 'times.jsonl');
  const [farBack, feb30, apr31, hour24] = await Promise.all([
    bin(['ops', 'incident', 'detect', incidentId, '--at=-999999999d', '--log', incidentLog]),
    bin(['ops', 'incident', 'open', '--sev', 'SEV3', '--title', 'typo day', '--started-at', '2025-02-30T10:00:00Z', '--log', log]),
    bin(['ops', 'incident', 'open', '--sev', 'SEV3', '--title', 'typo day', '--started-at', '2025-04-31T10:00:00+02:00', '--log', log]),
    bin(['ops', 'incident', 'note', incidentId, 'x', '--at', '2025-01-01T24:00:00Z', '--log', incidentLog]),
  ]);
  oneLineFailure(farBack, 2, /^triton-gateway: --at: '-999999999d' is too far back to be a time$/);
  oneLineFailure(feb30, 2, /^triton-gateway: --started-at: '2025-02-30T10:00:00Z' is not a date and time that exists/);
  oneLineFailure(apr31, 2, /^triton-gateway: --started-at: '2025-04-31T10:00:00\+02:00' is not a date and time that exists/);
  oneLineFailure(hour24, 2, /^triton-gateway: --at: '2025-01-01T24:00:00Z' is not a date and time that exists/);
  assert.ok(!existsSync(log), 'nothing recorded');
  // A real leap day is a time.
  const leap = await cli(['ops', 'incident', 'open', '--sev', 'SEV3', '--title', 'leap day', '--started-at', '2024-02-29T10:00:00Z', '--log', log]);
  assert.equal(leap.code, 0, leap.stderr);
  assert.match(leap.stdout, /^INC-20240229-[0-9a-f]{6} opened .* started 2024-02-29T10:00:00\.000Z/);
});
