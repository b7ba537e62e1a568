/**
 * A record that the file system takes only part of (a full disk, the file-size limit): the append
 * rejects instead of counting as fsynced, and the next record starts on a line of its own, so
 * the fragment is one unreadable line that readers skip and report, and later records survive.
 * The short write is real: a child process under `ulimit -f`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readJsonl } from '../../../src/governance/jsonl-file.js';

const dir = await mkdtemp(join(tmpdir(), 'jsonl-short-'));
after(() => rm(dir, { recursive: true, force: true }));

test('a short write rejects the append; the next record starts on a new line and reads back', async () => {
  const path = join(dir, 'events.jsonl');
  const child = fileURLToPath(new URL('./short-write-child.ts', import.meta.url));
  // `trap '' XFSZ`: past the limit write(2) returns short (then EFBIG) instead of killing the process.
  const run = spawnSync('sh', ['-c', `trap '' XFSZ; ulimit -S -f 4; exec "$0" --import tsx "$1" "$2"`, process.execPath, child, path], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  const steps = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { step?: string; ok?: boolean; error?: string });
  const byName = new Map(steps.map((s) => [s.step, s]));

  assert.equal(byName.get('small')?.ok, true);
  const short = byName.get('past the limit')!;
  assert.equal(short.ok, false, 'a record only partly written must not count as written');
  assert.match(short.error!, new RegExp(`^${path}: wrote \\d+ of \\d+ bytes of a record: EFBIG`));
  assert.equal(byName.get('at the limit')?.ok, false);
  assert.equal(byName.get('after room was made')?.ok, true, run.stdout);

  const text = await readFile(path, 'utf8');
  assert.ok(text.endsWith('{"n":4}\n'), 'the record after the fragment is on its own line');
  const read = await readJsonl(path, (v) => v as { n: number });
  assert.deepEqual(read.records.map((r) => r.n), [1, 4]);
  assert.equal(read.tornTail, undefined);
  assert.equal(read.problems.length, 1, 'the fragment is one skipped line');
  assert.equal(read.problems[0]!.line, 2);
  assert.match(read.problems[0]!.excerpt, /^\{"n":2,"pad":"x+/);
});
