/**
 * The backup manifest: every artifact with its size and sha256, the folders that hold no file,
 * and the verification hash, a sha256 over the canonical listing (one `<sha256>  <bytes>  <path>\n`
 * line per artifact sorted by path, then one `dir  <path>/\n` line per empty folder sorted by
 * path). The verification hash names the backup as a whole: two backups with the same hash hold
 * the same bytes at the same paths, and a manifest edited after the fact no longer matches it.
 *
 * Schema version 2 added `empty_directories`. Version 1 manifests (written before) have none and
 * still verify; a repository without empty folders gets the same verification hash in both.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { z } from 'zod';

export const MANIFEST_NAME = 'backup-manifest.json';
export const FILES_DIR = 'files';

export const manifestArtifactSchema = z
  .object({
    path: z.string().min(1),
    kind: z.enum(['engine_plan', 'tokenizer', 'schema', 'model_config', 'other']),
    bytes: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export const backupManifestSchema = z
  .object({
    schema_version: z.union([z.literal(1), z.literal(2)]),
    backup_id: z.string().min(1),
    created_at: z.string(),
    source: z.string(),
    artifacts: z.array(manifestArtifactSchema),
    empty_directories: z.array(z.string().min(1)).optional(),
    verification_hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  })
  .strict();

export type ManifestArtifact = z.infer<typeof manifestArtifactSchema>;
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export const MANIFEST_SCHEMA_VERSION = 2 as const;

/** Code-point order of paths: the manifest's order, the same on every platform and locale. */
export function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A folder line starts with `dir`, which no hex sha256 does, so it cannot pass for a file line. */
export function verificationHash(artifacts: readonly ManifestArtifact[], emptyDirectories: readonly string[] = []): string {
  const h = createHash('sha256');
  for (const a of [...artifacts].sort((x, y) => byPath(x.path, y.path))) h.update(`${a.sha256}  ${a.bytes}  ${a.path}\n`);
  for (const d of [...emptyDirectories].sort(byPath)) h.update(`dir  ${d}/\n`);
  return `sha256:${h.digest('hex')}`;
}

/** sha256 and length of a stream, read once. */
export async function hashStream(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    h.update(buf);
    bytes += buf.length;
  }
  return { sha256: h.digest('hex'), bytes };
}

export function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  return hashStream(createReadStream(path));
}
