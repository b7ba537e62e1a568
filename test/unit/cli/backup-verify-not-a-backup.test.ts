/**
 * `backup verify` given something that is not a backup copy (a path that does not exist, a
 * file, a folder holding neither backup-manifest.json nor files/, such as the <dest> instead of
 * <dest>/<backup-id>) refuses it with one line naming it and exit 2 (bad usage), never MISMATCH
 * and exit 1, which mean a backup whose files do not match its manifest. A copy with files/ but no
 * manifest (an interrupted backup: the manifest is written last) is still a MISMATCH.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeModelRepository } from '../../fixtures/model-repository.js';
import { cli, type CliRun } from './run-cli.js';
import { runBin } from '../../helpers/cli-bin.js';

let dir: string;
let dest: string;
let copy: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backup-verify-unusable-'));
  const repo = join(dir, 'model_repository');
  await makeModelRepository(repo, 4096);
  dest = join(dir, 'backups');
  const run = await cli(['backup', 'record', repo, '--to', dest, '--skip-event', '--json'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  copy = (JSON.parse(run.stdout) as { destinations: Array<{ location: string }> }).destinations[0]!.location;
});
after(() => rm(dir, { recursive: true, force: true }));

function refused(run: CliRun, path: string, reason: RegExp): void {
  assert.equal(run.code, 2, run.stdout + run.stderr);
  assert.equal(run.stdout, '', 'no MISMATCH report, no JSON');
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.ok(lines[0]!.startsWith(`triton-gateway: cannot verify ${path}: `), lines[0]);
  assert.match(lines[0]!, reason);
  assert.doesNotMatch(run.stderr, /MISMATCH|unexpected error|\n\s+at /);
}

test('a path that does not exist is refused (exit 2), not reported as a corrupt backup', async () => {
  const missing = join(dir, 'no', 'such', 'path');
  refused(await cli(['backup', 'verify', missing], { cwd: dir }), missing, /does not exist/);
  refused(await cli(['backup', 'verify', missing, '--json'], { cwd: dir }), missing, /does not exist/);
  // Relative paths are named as resolved.
  refused(await cli(['backup', 'verify', 'nope'], { cwd: dir }), join(dir, 'nope'), /does not exist/);
});

test('a file, an empty folder, or the destination instead of the copy is not a backup copy', async () => {
  const file = join(dir, 'a-file');
  await writeFile(file, 'not a backup');
  refused(await cli(['backup', 'verify', file], { cwd: dir }), file, /is not a folder/);
  const empty = join(dir, 'empty');
  await mkdir(empty);
  refused(await cli(['backup', 'verify', empty], { cwd: dir }), empty, /not a backup copy: neither backup-manifest\.json nor files\/ is there/);
  // The usual slip: <dest> where <dest>/<backup-id> was meant.
  refused(await cli(['backup', 'verify', dest], { cwd: dir }), dest, /not a backup copy.*<dest>\/<backup-id>/);
});

test('a locator that cannot be a backup (another URL scheme) is refused the same way', async () => {
  refused(await cli(['backup', 'verify', 'https://example.com/backup'], { cwd: dir }), 'https://example.com/backup', /unsupported destination/);
});

test('a copy with its files but no manifest is a real, incomplete backup: MISMATCH, exit 1', async () => {
  const incomplete = join(dir, 'incomplete');
  await cli(['backup', 'record', join(dir, 'model_repository'), '--to', incomplete, '--skip-event'], { cwd: dir });
  const [id] = await readdir(incomplete);
  await unlink(join(incomplete, id!, 'backup-manifest.json'));
  const run = await cli(['backup', 'verify', join(incomplete, id!)], { cwd: dir });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stdout, /^MISMATCH /);
  assert.match(run.stdout, /missing {4}backup-manifest\.json/);
  // And the intact copy still verifies.
  assert.equal((await cli(['backup', 'verify', copy], { cwd: dir })).code, 0);
});

test('the real bin: one line naming the path, exit 2', async () => {
  const missing = join(dir, 'gone');
  const run = await runBin(['backup', 'verify', missing], { cwd: dir });
  refused(run, missing, /does not exist/);
});
