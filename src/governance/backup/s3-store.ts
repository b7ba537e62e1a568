/**
 * An S3-compatible bucket as a backup destination (`s3://bucket/prefix`). The endpoint comes from
 * the flag or the environment (S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL); with a custom
 * endpoint, path-style addressing is used, which MinIO, Ceph and most others need. Credentials:
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when set, else the SDK's default chain.
 *
 * Files above `partSizeBytes` go up as a multipart upload (a single PUT stops at 5 GiB, and
 * engine plan files can be larger). Request checksums are only sent when the API requires them:
 * many S3-compatible stores reject the newer checksum headers.
 *
 * A file is read into memory (at most one part) and hashed before it is sent. A small file that
 * no longer matches the manifest is never PUT; a multipart upload whose parts do not add up to it
 * is aborted instead of completed.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CopyCheck, type ExpectedContent } from './copy-check.js';
import { assertSafeKey, type BackupStore } from './store.js';

export interface S3Options {
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  partSizeBytes?: number;
}

const MIN_PART = 5 * 1024 * 1024;
const DEFAULT_PART = 64 * 1024 * 1024;

/** `fh.read` may return less than asked before the end of the file: read until full or EOF. */
async function readFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

const NODE_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * On Node < 22 the SDK writes a multi-line NodeVersionSupportWarning (its releases after January
 * 2027 need Node 22) to stderr, once per process, when a client is constructed
 * (@aws-sdk/core/client emitWarningIfUnsupportedVersion, called from the client's
 * runtimeConfig). It is for whoever upgrades this package's dependencies, not for someone taking
 * a backup, and it lands in the middle of the backup commands' progress. The SDK's supported
 * switch, the one its maintainers announce with the warning (aws/aws-sdk-js-v3#7983), is this
 * environment variable, read only while the client is constructed (synchronously), so it is set
 * for this client's construction alone and put back. A value the user set is left as it is
 * ('false' keeps the warning). The SDK then counts its warning as given for the whole process,
 * so a later client in the same process would not print it either; the CLI makes no other.
 * Not a client option: the SDK has none for this.
 */
function withoutNodeVersionWarning<T>(construct: () => T): T {
  if (process.env[NODE_WARNING_SWITCH] !== undefined) return construct();
  process.env[NODE_WARNING_SWITCH] = 'true';
  try {
    return construct();
  } finally {
    delete process.env[NODE_WARNING_SWITCH];
  }
}

function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m || m[1]!.length < 3) throw new Error(`not an S3 URI (s3://bucket/prefix): '${uri}'`);
  return { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
}

export class S3Store implements BackupStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;

  constructor(readonly uri: string, options: S3Options = {}) {
    const { bucket, prefix } = parseS3Uri(uri);
    this.bucket = bucket;
    this.prefix = prefix;
    this.partSize = Math.max(MIN_PART, options.partSizeBytes ?? DEFAULT_PART);
    this.client = withoutNodeVersionWarning(() => new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, sessionToken: options.sessionToken } }
        : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }));
  }

  private key(key: string): string {
    assertSafeKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${this.prefix ? `${this.prefix}/` : ''}${key}`;
  }

  async putFile(key: string, file: string, expected: ExpectedContent): Promise<void> {
    const check = new CopyCheck(expected);
    const fh = await open(file, 'r');
    try {
      if (expected.bytes <= this.partSize) {
        // One byte past the expected size, so a file that grew is noticed.
        const buf = Buffer.alloc(expected.bytes + 1);
        check.update(buf.subarray(0, await readFully(fh, buf, buf.length, 0)));
        check.assertMatches();
        const body = buf.subarray(0, expected.bytes);
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: body, ContentLength: body.length }));
        return;
      }
      await this.multipart(this.key(key), fh, check);
    } finally {
      await fh.close();
    }
  }

  private async multipart(key: string, fh: FileHandle, check: CopyCheck): Promise<void> {
    const bytes = check.expected.bytes;
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error(`no UploadId for s3://${this.bucket}/${key}`);
    try {
      const parts: Array<{ ETag: string | undefined; PartNumber: number }> = [];
      const buf = Buffer.alloc(this.partSize);
      for (let offset = 0, n = 1; offset < bytes; offset += this.partSize, n++) {
        const length = Math.min(this.partSize, bytes - offset);
        const bytesRead = await readFully(fh, buf, length, offset);
        check.update(buf.subarray(0, bytesRead));
        if (bytesRead < length) check.assertMatches(); // shrank: throws
        const res = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: buf.subarray(0, bytesRead), ContentLength: bytesRead }),
        );
        parts.push({ ETag: res.ETag, PartNumber: n });
      }
      check.update(buf.subarray(0, await readFully(fh, buf, 1, bytes)));
      check.assertMatches();
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      // An abandoned multipart upload is billed storage: abort it.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw err;
    }
  }

  async putBytes(key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: body, ContentLength: body.length }));
  }

  async putDirectory(key: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: `${this.key(key)}/`, Body: Buffer.alloc(0), ContentLength: 0 }));
  }

  async openRead(key: string): Promise<Readable | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return res.Body as Readable;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async rootProblem(): Promise<string | null> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return null;
    } catch (err) {
      // A HEAD answer has no body: the status is all there is.
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return `bucket '${this.bucket}' does not exist`;
      // Someone else's bucket, or no s3:ListBucket: the next request fails with S3's own reason.
      if (status === 403) return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const full = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    const out: string[] = [];
    let token: string | undefined;
    // Bounded: 10,000 pages of 1,000 keys is far beyond any model repository.
    for (let page = 0; page < 10_000; page++) {
      const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ContinuationToken: token }));
      for (const o of res.Contents ?? []) if (o.Key) out.push(o.Key.slice(strip));
      if (!res.IsTruncated || !res.NextContinuationToken) break;
      token = res.NextContinuationToken;
    }
    return out.sort();
  }

  close(): void {
    this.client.destroy();
  }
}
