/**
 * recordBackup when a file changes while the backup runs (an engine redeployed between hashing
 * and copying): each destination hashes the bytes it copies, and one that got bytes other than
 * the manifest's fails with the file named, gets no manifest and keeps nothing under the file's
 * name, while a destination copied before the change still verifies. Local directories and S3
 * (a single PUT and a multipart upload), against s3rver on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { recordBackup, type BackupProgress } from '../../../../src/governance/backup/record.js';
import { verifyBackup } from '../../../../src/governance/backup/verify.js';
import { startLocalS3, type LocalS3 } from '../../../helpers/local-s3.js';

const BUCKET = 'model-backups';
const PART = 5 * 1024 * 1024;
let dir: string;
let local: LocalS3;
let endpoint: string;
let s3: S3Client;
const s3Options = () => ({ endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', partSizeBytes: PART });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backup-record-'));
  local = await startLocalS3(dir, BUCKET);
  ({ endpoint, s3 } = local);
});
after(async () => {
  await local.close();
  await rm(dir, { recursive: true, force: true });
});

async function repository(name: string, engine: Buffer): Promise<string> {
  const repo = join(dir, name);
  await mkdir(join(repo, '1'), { recursive: true });
  await writeFile(join(repo, 'config.pbtxt'), 'name: "llama"\n');
  await writeFile(join(repo, '1', 'rank0.engine'), engine);
  return repo;
}

/** Rewrites the engine once the first destination is done: after hashing, before the second copy. */
function redeployAfterFirst(repo: string, change: (old: Buffer) => Buffer): (p: BackupProgress) => void {
  let done = false;
  return (p) => {
    if (p.phase !== 'destination_done' || done) return;
    done = true;
    const path = join(repo, '1', 'rank0.engine');
    writeFileSync(path, change(readFileSync(path)));
  };
}

async function s3Keys(prefix: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
}

test('local: the copy made after the engine grew fails, names it, and gets no manifest; the earlier copy verifies', async () => {
  const repo = await repository('grew', Buffer.from('ENGINE v1'));
  const result = await recordBackup({ source: repo, destinations: [join(dir, 'grew-a'), join(dir, 'grew-b')], progress: redeployAfterFirst(repo, () => Buffer.from('ENGINE v2!')) });
  const [a, b] = result.destinations as [(typeof result.destinations)[0], (typeof result.destinations)[0]];
  assert.equal(a.ok, true);
  assert.equal((await verifyBackup({ copy: a.location })).ok, true);
  assert.equal(b.ok, false);
  assert.match(b.error!, /^source changed during the backup: 1\/rank0\.engine grew past the 9 B it had when hashed; nothing was written under its name and this copy has no manifest, run the backup again$/);
  // The engine sorts first: nothing under its name (not even a .partial), no manifest.
  assert.deepEqual(await readdir(b.location), ['files']);
  assert.deepEqual(await readdir(join(b.location, 'files', '1')), []);
});

test('local: a same-size rewrite and a truncation are caught too', async () => {
  const repo = await repository('rewrite', Buffer.from('ENGINE v1'));
  const flipped = await recordBackup({ source: repo, destinations: [join(dir, 'rw-a'), join(dir, 'rw-b')], progress: redeployAfterFirst(repo, () => Buffer.from('ENGINE v3')) });
  assert.deepEqual(flipped.destinations.map((d) => d.ok), [true, false]);
  assert.match(flipped.destinations[1]!.error!, /1\/rank0\.engine has the same size but sha256 [0-9a-f]{64}, it was [0-9a-f]{64} when hashed/);

  const repo2 = await repository('shrank', Buffer.from('ENGINE v1'));
  const shrank = await recordBackup({ source: repo2, destinations: [join(dir, 'sh-a'), join(dir, 'sh-b')], progress: redeployAfterFirst(repo2, () => Buffer.from('ENG')) });
  assert.deepEqual(shrank.destinations.map((d) => d.ok), [true, false]);
  assert.match(shrank.destinations[1]!.error!, /1\/rank0\.engine is now 3 B, it was 9 B when hashed/);
});

test('S3, single PUT: a changed file is never uploaded', async () => {
  const repo = await repository('s3-small', Buffer.from('ENGINE v1'));
  const result = await recordBackup({ source: repo, destinations: [join(dir, 's3-small-a'), `s3://${BUCKET}/small`], s3: s3Options(), progress: redeployAfterFirst(repo, () => Buffer.from('ENGINE v2!')) });
  assert.deepEqual(result.destinations.map((d) => d.ok), [true, false]);
  assert.match(result.destinations[1]!.error!, /^source changed during the backup: 1\/rank0\.engine grew past/);
  assert.deepEqual(await s3Keys('small/'), []);
});

test('S3, multipart: an upload whose parts do not match the manifest is never completed', async () => {
  const repo = await repository('s3-large', randomBytes(PART + 1024 * 1024));
  const flipLastByte = (old: Buffer): Buffer => {
    const copy = Buffer.from(old);
    copy[copy.length - 1] = copy[copy.length - 1]! ^ 0xff;
    return copy;
  };
  const result = await recordBackup({ source: repo, destinations: [join(dir, 's3-large-a'), `s3://${BUCKET}/large`], s3: s3Options(), progress: redeployAfterFirst(repo, flipLastByte) });
  assert.deepEqual(result.destinations.map((d) => d.ok), [true, false]);
  assert.match(result.destinations[1]!.error!, /^source changed during the backup: 1\/rank0\.engine has the same size but sha256/);
  assert.deepEqual(await s3Keys('large/'), []);
  assert.equal((await verifyBackup({ copy: result.destinations[0]!.location })).ok, true);
});
