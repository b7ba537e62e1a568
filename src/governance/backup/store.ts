/**
 * Where backups go: a local directory or an S3-compatible bucket, behind one small interface.
 * Keys are '/'-separated paths relative to the destination root.
 */
import type { Readable } from 'node:stream';

export interface BackupStore {
  /** The destination as the user wrote it (a path or s3://bucket/prefix). */
  readonly uri: string;
  /** The printable location of `key`. */
  locate(key: string): string;
  putFile(key: string, file: string, bytes: number): Promise<void>;
  putBytes(key: string, body: Buffer): Promise<void>;
  /** undefined when the key does not exist. */
  openRead(key: string): Promise<Readable | undefined>;
  /** Keys under `prefix` (which ends with '/'), relative to the root. */
  list(prefix: string): Promise<string[]>;
  close(): void;
}

/** Keys come from manifests, which may be hostile: no absolute paths, no '..', no empty segments. */
export function assertSafeKey(key: string): void {
  const parts = key.split('/');
  if (key.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..') || key.includes('\\') || key.includes('\0')) {
    throw new Error(`unsafe path in backup: '${key}'`);
  }
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
