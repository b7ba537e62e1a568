/**
 * Where backups go: a local directory or an S3-compatible bucket, behind one small interface.
 * Keys are '/'-separated paths relative to the destination root.
 */
import type { Readable } from 'node:stream';
import type { ExpectedContent } from './copy-check.js';

export interface BackupStore {
  /** The destination as the user wrote it (a path or s3://bucket/prefix). */
  readonly uri: string;
  /** The printable location of `key`. */
  locate(key: string): string;
  /**
   * Copies `file` to `key`, hashing the bytes as it reads them. When they are not `expected`
   * (the file changed since it was hashed) it throws SourceChangedError and leaves nothing under
   * `key`.
   */
  putFile(key: string, file: string, expected: ExpectedContent): Promise<void>;
  putBytes(key: string, body: Buffer): Promise<void>;
  /** An empty folder at `key` (on S3, the zero-byte folder marker `key/`). */
  putDirectory(key: string): Promise<void>;
  /** undefined when the key does not exist. */
  openRead(key: string): Promise<Readable | undefined>;
  /**
   * Keys under `prefix` (which ends with '/'), relative to the root: files, and folders as keys
   * ending with '/' (every local folder; S3 folder markers).
   */
  list(prefix: string): Promise<string[]>;
  /**
   * Why the root cannot be read as a backup copy ('it does not exist', 'it is not a folder', a
   * bucket that does not exist), or null when it is there. An S3 prefix is always there (S3 has
   * no folders): whether it holds a backup is for the caller to find out.
   */
  rootProblem(): Promise<string | null>;
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
