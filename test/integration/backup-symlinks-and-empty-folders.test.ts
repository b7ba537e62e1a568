/**
 * `backup record` / `backup verify` on a repository laid out the way TRT-LLM deployments are:
 * the engine plan a symlink into a shared engine store, the tokenizer a Hugging Face snapshot
 * folder linked in (its files links into blobs/), and the ensemble's empty version folder
 * `ensemble/1/`. The copies (a directory and an S3 bucket) hold the linked content as plain
 * files and the empty folder; verify reports a missing or stray empty folder; a repository with
 * a broken link fails the backup, naming it, and copies nothing; a version 1 manifest (written
 * before folders were recorded) still verifies.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { cli } from '../unit/cli/run-cli.js';
import { startLocalS3, type LocalS3 } from '../helpers/local-s3.js';

const BUCKET = 'model-backups';
let dir: string;
let repo: string;
let localS3: LocalS3;
let endpoint: string;
let s3: S3Client;
const env = () => localS3.env;

async function put(path: string, content: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backup-links-'));
  const store = join(dir, 'engine-store');
  await put(join(store, 'llama-3-8b', 'rank0.engine'), 'ENGINE PLAN BYTES');
  await put(join(store, 'hf', 'blobs', '4f1a'), '{"version": "1.0"}\n');
  await put(join(store, 'hf', 'blobs', '9c2e'), '{"bos_token": "<s>"}\n');
  await mkdir(join(store, 'hf', 'snapshots', 'abc123'), { recursive: true });
  await symlink('../../blobs/4f1a', join(store, 'hf', 'snapshots', 'abc123', 'tokenizer.json'));
  await symlink('../../blobs/9c2e', join(store, 'hf', 'snapshots', 'abc123', 'tokenizer_config.json'));

  repo = join(dir, 'model_repository');
  await put(join(repo, 'ensemble', 'config.pbtxt'), 'name: "ensemble"\nplatform: "ensemble"\n');
  await mkdir(join(repo, 'ensemble', '1'));
  await put(join(repo, 'tensorrt_llm', 'config.pbtxt'), 'name: "tensorrt_llm"\nbackend: "tensorrtllm"\n');
  await mkdir(join(repo, 'tensorrt_llm', '1'));
  await symlink(join(store, 'llama-3-8b', 'rank0.engine'), join(repo, 'tensorrt_llm', '1', 'rank0.engine'));
  await symlink(join(store, 'hf', 'snapshots', 'abc123'), join(repo, 'tokenizer'));

  localS3 = await startLocalS3(dir, BUCKET);
  ({ endpoint, s3 } = localS3);
});
after(async () => {
  await localS3.close();
  await rm(dir, { recursive: true, force: true });
});

interface RecordJson {
  ok: boolean;
  artifacts: number;
  kinds: Record<string, number>;
  destinations: Array<{ location: string; ok: boolean }>;
}
let local: string;
let remote: string;

test('linked engine and tokenizer files and the empty ensemble/1/ are in both copies, which verify', async () => {
  const run = await cli(['backup', 'record', repo, '--to', join(dir, 'site-a'), '--to', `s3://${BUCKET}/nightly`, '--s3-endpoint', endpoint, '--skip-event', '--json'], { env: env(), cwd: dir });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const result = JSON.parse(run.stdout) as RecordJson;
  assert.equal(result.artifacts, 5);
  assert.deepEqual(result.kinds, { model_config: 2, engine_plan: 1, tokenizer: 2 });
  [local, remote] = result.destinations.map((d) => d.location) as [string, string];

  // Plain files with the links' content, and the empty folder.
  assert.equal(await readFile(join(local, 'files/tensorrt_llm/1/rank0.engine'), 'utf8'), 'ENGINE PLAN BYTES');
  assert.equal(await readFile(join(local, 'files/tokenizer/tokenizer_config.json'), 'utf8'), '{"bos_token": "<s>"}\n');
  assert.equal((await stat(join(local, 'files/ensemble/1'))).isDirectory(), true);
  assert.deepEqual(await readdir(join(local, 'files/ensemble/1')), []);
  const manifest = JSON.parse(await readFile(join(local, 'backup-manifest.json'), 'utf8')) as { schema_version: number; empty_directories: string[] };
  assert.equal(manifest.schema_version, 2);
  assert.deepEqual(manifest.empty_directories, ['ensemble/1']);

  const prefix = remote.slice(`s3://${BUCKET}/`.length);
  const keys = (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/files/` }))).Contents!.map((o) => o.Key!.slice(prefix.length + 7)).sort();
  assert.deepEqual(keys, ['ensemble/1/', 'ensemble/config.pbtxt', 'tensorrt_llm/1/rank0.engine', 'tensorrt_llm/config.pbtxt', 'tokenizer/tokenizer.json', 'tokenizer/tokenizer_config.json']);

  for (const copy of [local, remote]) {
    const v = await cli(['backup', 'verify', copy, '--s3-endpoint', endpoint, '--json'], { env: env(), cwd: dir });
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.deepEqual((({ checked, empty_folders }) => ({ checked, empty_folders }))(JSON.parse(v.stdout) as { checked: number; empty_folders: number }), { checked: 5, empty_folders: 1 });
  }
});

test('verify reports a missing empty folder and a stray one (a numeric folder is a version to Triton)', async () => {
  await rmdir(join(local, 'files/ensemble/1'));
  await mkdir(join(local, 'files/tensorrt_llm/2'));
  const run = await cli(['backup', 'verify', local], { cwd: dir });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^MISMATCH /);
  assert.match(run.stdout, /missing {4}ensemble\/1\/: expected an empty folder, found nothing/);
  assert.match(run.stdout, /unexpected tensorrt_llm\/2\/: not listed in the manifest/);
  assert.match(run.stdout, /2 mismatch\(es\)/);

  // On S3 the folder is its zero-byte marker key.
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${remote.slice(`s3://${BUCKET}/`.length)}/files/ensemble/1/` }));
  const s3run = await cli(['backup', 'verify', remote, '--s3-endpoint', endpoint, '--json'], { env: env(), cwd: dir });
  assert.equal(s3run.code, 1);
  assert.deepEqual((JSON.parse(s3run.stdout) as { mismatches: unknown[] }).mismatches, [{ path: 'ensemble/1/', problem: 'missing', expected: 'an empty folder', actual: null }]);
});

test('a version 1 manifest (no folder list) still verifies', async () => {
  const site = join(dir, 'site-old');
  const run = await cli(['backup', 'record', join(repo, 'tensorrt_llm'), '--to', site, '--skip-event', '--json'], { cwd: dir });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const copy = (JSON.parse(run.stdout) as RecordJson).destinations[0]!.location;
  const path = join(copy, 'backup-manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(manifest.empty_directories, []);
  // As the previous release wrote it; no empty folders, so the verification hash is unchanged.
  delete manifest.empty_directories;
  manifest.schema_version = 1;
  await writeFile(path, JSON.stringify(manifest));
  const v = await cli(['backup', 'verify', copy], { cwd: dir });
  assert.equal(v.code, 0, v.stdout);
});

test('a broken link fails the backup, naming it, and nothing is copied', async () => {
  await symlink(join(dir, 'engine-store', 'llama-3-8b', 'rank1.engine'), join(repo, 'tensorrt_llm', '1', 'rank1.engine'));
  const site = join(dir, 'site-broken');
  const run = await cli(['backup', 'record', repo, '--to', site, '--skip-event'], { cwd: dir });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /backup failed: cannot back up 1 entry under .*model_repository, nothing was copied: tensorrt_llm\/1\/rank1\.engine \(broken symlink\)/);
  await assert.rejects(stat(site), { code: 'ENOENT' });
});

test('verify reports a link added to a copy, which Triton would load, as not in the manifest', async () => {
  await put(join(dir, 'elsewhere.engine'), 'ANOTHER ENGINE');
  await symlink(join(dir, 'elsewhere.engine'), join(local, 'files/tensorrt_llm/1/rank1.engine'));
  const run = await cli(['backup', 'verify', local, '--json'], { cwd: dir });
  assert.equal(run.code, 1);
  const { mismatches } = JSON.parse(run.stdout) as { mismatches: Array<{ path: string; problem: string }> };
  assert.ok(mismatches.some((m) => m.path === 'tensorrt_llm/1/rank1.engine' && m.problem === 'unexpected'), JSON.stringify(mismatches));
});
