/**
 * An S3-compatible bucket as a backup destination (`s3://bucket/prefix`). The endpoint comes from
 * the flag or the environment (S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL); with a custom
 * endpoint, path-style addressing is used, which MinIO, Ceph and most others need. Credentials:
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when set, else the SDK's default chain.
 *
 * Files above `partSizeBytes` go up as a multipart upload (a single PUT stops at 5 GiB, and
 * engine plan files can be larger). Request checksums are only sent when the API requires them:
 * many S3-compatible stores reject the newer checksum headers.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
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

export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
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
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, sessionToken: options.sessionToken } }
        : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private key(key: string): string {
    assertSafeKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${this.prefix ? `${this.prefix}/` : ''}${key}`;
  }

  async putFile(key: string, file: string, bytes: number): Promise<void> {
    if (bytes <= this.partSize) {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: createReadStream(file), ContentLength: bytes }));
      return;
    }
    await this.multipart(this.key(key), file, bytes);
  }

  private async multipart(key: string, file: string, bytes: number): Promise<void> {
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error(`no UploadId for s3://${this.bucket}/${key}`);
    const fh = await open(file, 'r');
    try {
      const parts: Array<{ ETag: string | undefined; PartNumber: number }> = [];
      const buf = Buffer.alloc(this.partSize);
      for (let offset = 0, n = 1; offset < bytes; offset += this.partSize, n++) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(this.partSize, bytes - offset), offset);
        const res = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: buf.subarray(0, bytesRead), ContentLength: bytesRead }),
        );
        parts.push({ ETag: res.ETag, PartNumber: n });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      // An abandoned multipart upload is billed storage: abort it.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw err;
    } finally {
      await fh.close();
    }
  }

  async putBytes(key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: body, ContentLength: body.length }));
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
