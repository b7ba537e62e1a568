/**
 * `backup record` / `backup verify` with local directories: every artifact hashed and copied to
 * each destination, the verification hash stable for the same bytes, llm_backup_recorded in the
 * event log; a tampered copy reports every mismatch and exits non-zero while the other copy
 * still verifies; a destination that cannot be written fails alone.
 */
import assert from 'node:assert/strict';
import { readFile, rm, unlink, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventLog } from '../../src/governance/event-log.js';
import { cli } from '../unit/cli/run-cli.js';
import { makeModelRepository } from '../fixtures/model-repository.js';

let dir: string;
let repo: string;
const env = () => ({ GOVERNANCE_EVENT_LOG: join(dir, 'events.jsonl'), USER: 'backup-bot' });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backup-local-'));
  repo = join(dir, 'model_repository');
  await makeModelRepository(repo);
});
after(() => rm(dir, { recursive: true, force: true }));

interface RecordJson {
  ok: boolean;
  backup_id: string;
  verification_hash: string;
  artifacts: number;
  kinds: Record<string, number>;
  destinations: Array<{ uri: string; location: string; ok: boolean; error: string | null }>;
  event_id: string;
}

let first: RecordJson;

test('record copies every artifact to each destination and records llm_backup_recorded', async () => {
  const run = await cli(['backup', 'record', repo, '--to', join(dir, 'site-a'), '--to', join(dir, 'site-b'), '--json'], { env: env(), cwd: dir, now: () => new Date('2025-11-18T14:00:00Z') });
  assert.equal(run.code, 0, run.stderr);
  first = JSON.parse(run.stdout) as RecordJson;
  assert.equal(first.ok, true);
  assert.equal(first.artifacts, 9);
  assert.deepEqual(first.kinds, { model_config: 3, other: 2, engine_plan: 1, tokenizer: 2, schema: 1 });
  assert.match(first.verification_hash, /^sha256:[0-9a-f]{64}$/);
  assert.match(first.backup_id, /^model_repository-20251118T140000Z-[0-9a-f]{12}$/);
  assert.deepEqual(first.destinations.map((d) => d.location), [join(dir, 'site-a', first.backup_id), join(dir, 'site-b', first.backup_id)]);
  // Progress with sizes and rates went to stderr, per file and per destination, rounded for
  // people: whole bytes, else one decimal (never `426.06545122223525 B/s`).
  assert.match(run.stderr, /hash {3}\[2\/9\] model_config ensemble\/config\.pbtxt \(57 B, (\d+ B|\d+\.\d [KMGTP]iB)\/s\)/);
  assert.match(run.stderr, /copy {3}\[\d\/9\] .*site-a: tensorrt_llm\/1\/rank0\.engine \(256\.0 KiB, (\d+ B|\d+\.\d [KMGTP]iB)\/s\)/);
  for (const [, n, unit] of (run.stderr + run.stdout).matchAll(/(\d[\d.]*) ([KMGTP]?i?B)\b/g)) {
    assert.match(`${n} ${unit}`, unit === 'B' ? /^\d+ B$/ : /^\d+\.\d [KMGTP]iB$/);
  }
  assert.match(run.stderr, /copy {3}\[9\/9\]/);
  assert.match(run.stderr, /done {3}.*site-b in \d+\.\d\ds/);

  // The copied engine is byte-identical.
  assert.deepEqual(await readFile(join(first.destinations[0]!.location, 'files/tensorrt_llm/1/rank0.engine')), await readFile(join(repo, 'tensorrt_llm/1/rank0.engine')));

  const events = (await new EventLog(join(dir, 'events.jsonl')).read({ type: 'llm_backup_recorded' })).events;
  assert.equal(events.length, 1);
  const e = events[0]!;
  assert.equal(e.event === 'llm_backup_recorded' && e.verification_hash, first.verification_hash);
  assert.equal(e.id, first.event_id);
  assert.equal(e.event === 'llm_backup_recorded' && e.actor, 'backup-bot');
  assert.deepEqual(e.event === 'llm_backup_recorded' && e.destinations.map((d) => d.ok), [true, true]);
});

test('the same bytes give the same verification hash', async () => {
  const run = await cli(['backup', 'record', repo, '--to', join(dir, 'site-c'), '--json', '--skip-event'], { env: env(), cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as RecordJson).verification_hash, first.verification_hash);
});

test('verify passes on an intact copy and reports every mismatch on a tampered one', async () => {
  const copyA = first.destinations[0]!.location;
  const ok = await cli(['backup', 'verify', copyA], { cwd: dir });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, new RegExp(`^OK ${copyA}\\n  backup ${first.backup_id}, 9 files`));
  assert.match(ok.stdout, /, \d+\.\d KiB re-hashed in \d+\.\d\ds(, (\d+ B|\d+\.\d [KMGTP]iB)\/s)?$/m);

  // Flip one byte of the engine (same size), delete the tokenizer, add a stray file.
  const engine = join(copyA, 'files/tensorrt_llm/1/rank0.engine');
  const bytes = await readFile(engine);
  bytes[1000] = bytes[1000]! ^ 0xff;
  await writeFile(engine, bytes);
  await unlink(join(copyA, 'files/tokenizer/tokenizer.json'));
  await writeFile(join(copyA, 'files/tensorrt_llm/1/rank1.engine'), 'not from the backup');

  const bad = await cli(['backup', 'verify', copyA, '--json'], { cwd: dir });
  assert.equal(bad.code, 1);
  const report = JSON.parse(bad.stdout) as { ok: boolean; mismatches: Array<{ path: string; problem: string }> };
  assert.equal(report.ok, false);
  assert.deepEqual(report.mismatches.map((m) => `${m.problem} ${m.path}`).sort(), [
    'missing tokenizer/tokenizer.json',
    'sha256 tensorrt_llm/1/rank0.engine',
    'unexpected tensorrt_llm/1/rank1.engine',
  ]);
  // The other copy is untouched.
  assert.equal((await cli(['backup', 'verify', first.destinations[1]!.location], { cwd: dir })).code, 0);
});

test('a manifest edited after the backup no longer matches its verification hash', async () => {
  const copyB = first.destinations[1]!.location;
  const path = join(copyB, 'backup-manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as { artifacts: Array<{ path: string; sha256: string; bytes: number }> };
  // Someone "fixes" the manifest to match a replaced config file.
  const target = manifest.artifacts.find((a) => a.path === 'ensemble/config.pbtxt')!;
  await writeFile(join(copyB, 'files/ensemble/config.pbtxt'), 'name: "evil"\n');
  target.sha256 = 'f'.repeat(64);
  await writeFile(path, JSON.stringify(manifest));
  const run = await cli(['backup', 'verify', copyB], { cwd: dir });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /manifest {3}backup-manifest\.json: expected sha256:[0-9a-f]{64}, found sha256:[0-9a-f]{64}/);
  assert.match(run.stdout, /sha256 {5}ensemble\/config\.pbtxt/);
});

test('a destination that cannot be written fails alone; missing arguments are usage errors', async () => {
  const blocker = join(dir, 'not-a-dir');
  await writeFile(blocker, 'a file where a directory should be');
  const run = await cli(['backup', 'record', repo, '--to', blocker, '--to', join(dir, 'site-d'), '--skip-event'], { cwd: dir });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /FAILED {13}.*not-a-dir/);
  assert.match(run.stdout, /ok {17}.*site-d/);

  const noDest = await cli(['backup', 'record', repo], { cwd: dir });
  assert.equal(noDest.code, 2);
  assert.match(noDest.stderr, /at least one --to <dest> is required/);
  const noRepo = await cli(['backup', 'record', join(dir, 'nope'), '--to', join(dir, 'x')], { cwd: dir });
  assert.equal(noRepo.code, 1);
  assert.match(noRepo.stderr, /model repository not found/);
  // A path that is no backup at all is bad usage, not a MISMATCH (test/unit/cli/backup-verify-not-a-backup.test.ts).
  const noCopy = await cli(['backup', 'verify', join(dir, 'nope')], { cwd: dir });
  assert.equal(noCopy.code, 2);
  assert.equal(noCopy.stdout, '');
  assert.match(noCopy.stderr, /cannot verify .*nope: it does not exist/);
});
