/**
 * The S3-compatible destination through @aws-sdk/client-s3 against s3rver, a local S3 server
 * running in this process on 127.0.0.1: a backup to a bucket prefix (the engine file large
 * enough to go up as a multipart upload) verifies; an object overwritten or deleted in the
 * bucket afterwards is reported; a missing bucket fails that destination with S3's reason.
 * `backup verify` given a bucket that does not exist or a prefix that holds no backup copy refuses
 * it with one line (exit 2), not MISMATCH; a copy whose manifest is gone is a MISMATCH. The real
 * bin on Node < 22 does not print the SDK's NodeVersionSupportWarning, unless the user asks for
 * it with AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cli, type CliRun } from '../unit/cli/run-cli.js';
import { makeModelRepository } from '../fixtures/model-repository.js';
import { startLocalS3, type LocalS3 } from '../helpers/local-s3.js';
import { runBin } from '../helpers/cli-bin.js';

const BUCKET = 'model-backups';
let dir: string;
let repo: string;
let local: LocalS3;
let endpoint: string;
let s3: S3Client;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backup-s3-'));
  repo = join(dir, 'model_repository');
  // 11 MiB of engine with 5 MiB parts: three parts.
  await makeModelRepository(repo, 11 * 1024 * 1024);
  local = await startLocalS3(dir, BUCKET);
  ({ endpoint, s3 } = local);
});
after(async () => {
  await local.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ ...local.env, GOVERNANCE_EVENT_LOG: join(dir, 'events.jsonl') });
let location: string;

test('a backup to s3://bucket/prefix (multipart for the engine) verifies', async () => {
  const run = await cli(['backup', 'record', repo, '--to', `s3://${BUCKET}/nightly/llama`, '--s3-endpoint', endpoint, '--part-size-mb', '5', '--json'], { env: env(), cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { backup_id: string; destinations: Array<{ location: string; ok: boolean }> };
  location = result.destinations[0]!.location;
  assert.equal(location, `s3://${BUCKET}/nightly/llama/${result.backup_id}`);

  const engine = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `nightly/llama/${result.backup_id}/files/tensorrt_llm/1/rank0.engine` }));
  assert.equal(engine.ContentLength, 11 * 1024 * 1024);

  // The endpoint can come from the environment too.
  const verified = await cli(['backup', 'verify', location, '--json'], { env: { ...env(), S3_ENDPOINT: endpoint }, cwd: dir });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  const report = JSON.parse(verified.stdout) as { ok: boolean; checked: number; bytes: number };
  assert.equal(report.ok, true);
  assert.equal(report.checked, 9);
  assert.ok(report.bytes > 11 * 1024 * 1024);
});

test('objects changed in the bucket after the backup are reported', async () => {
  const prefix = location.slice(`s3://${BUCKET}/`.length);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/files/tokenizer/tokenizer.json`, Body: '{"version": "2.0"}\n' }));
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${prefix}/files/llm/schemas/answer.schema.json` }));
  const run = await cli(['backup', 'verify', location, '--s3-endpoint', endpoint, '--json'], { env: env(), cwd: dir });
  assert.equal(run.code, 1);
  const report = JSON.parse(run.stdout) as { mismatches: Array<{ path: string; problem: string }> };
  assert.deepEqual(report.mismatches.map((m) => `${m.problem} ${m.path}`).sort(), [
    'missing llm/schemas/answer.schema.json',
    'sha256 tokenizer/tokenizer.json',
    'size tokenizer/tokenizer.json',
  ]);
});

test('a bucket that does not exist fails that destination with the reason; the local one still succeeds', async () => {
  const run = await cli(['backup', 'record', repo, '--to', 's3://no-such-bucket/x', '--to', join(dir, 'local'), '--s3-endpoint', endpoint, '--part-size-mb', '5', '--skip-event'], { env: env(), cwd: dir });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /FAILED {13}s3:\/\/no-such-bucket\/x\/.*bucket does not exist/i);
  assert.match(run.stdout, /ok {17}.*\/local\//);
});

test('a bucket that does not exist, or a prefix with no backup copy, is refused (exit 2), not MISMATCH', async () => {
  const refused = async (uri: string, reason: RegExp): Promise<void> => {
    const run = await cli(['backup', 'verify', uri, '--s3-endpoint', endpoint], { env: env(), cwd: dir });
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    assert.ok(run.stderr.startsWith(`triton-gateway: cannot verify ${uri}: `), run.stderr);
    assert.match(run.stderr, reason);
  };
  await refused('s3://no-such-bucket/x', /bucket 'no-such-bucket' does not exist/);
  await refused(`s3://${BUCKET}/nothing/here`, /not a backup copy: neither backup-manifest\.json nor files\/ is there/);
  // The destination prefix instead of the copy under it.
  await refused(`s3://${BUCKET}/nightly/llama`, /not a backup copy/);
});

test('a copy on S3 with its files but no manifest is a MISMATCH (exit 1)', async () => {
  const prefix = location.slice(`s3://${BUCKET}/`.length);
  const bare = `${prefix}-no-manifest`;
  await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${prefix}/files/tokenizer/tokenizer_config.json`, Key: `${bare}/files/tokenizer/tokenizer_config.json` }));
  const run = await cli(['backup', 'verify', `s3://${BUCKET}/${bare}`, '--s3-endpoint', endpoint], { env: env(), cwd: dir });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stdout, /^MISMATCH /);
  assert.match(run.stdout, /missing {4}backup-manifest\.json/);
});

function bin(argv: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
  return runBin(argv, { cwd: dir, env: { ...env(), ...extraEnv } });
}

// The SDK (@aws-sdk/core 'emitWarningIfUnsupportedVersion') only warns below Node 22.
const oldNode = Number(process.versions.node.split('.')[0]) < 22;

test('the bin prints no NodeVersionSupportWarning from the AWS SDK; the user can still ask for it', { skip: !oldNode && 'the SDK warns only on Node < 22' }, async () => {
  const [quiet, asked] = await Promise.all([
    bin(['backup', 'verify', location, '--s3-endpoint', endpoint]),
    bin(['backup', 'verify', location, '--s3-endpoint', endpoint], { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' }),
  ]);
  // The copy was tampered with above: a mismatch, but the run itself worked.
  assert.equal(quiet.code, 1, quiet.stderr);
  assert.match(quiet.stdout, /^MISMATCH /);
  assert.doesNotMatch(quiet.stderr, /NodeVersionSupportWarning|Warning:/);
  // The same run with the SDK's switch explicitly off: the warning is there, so the check above can see it.
  assert.equal(asked.code, 1, asked.stderr);
  assert.match(asked.stderr, /NodeVersionSupportWarning/);
});
