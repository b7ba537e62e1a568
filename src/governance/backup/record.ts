/**
 * `backup record`: list the repository's artifacts (symlinks followed, empty folders kept; see
 * artifacts.ts), hash each one, build the manifest and its verification hash, then copy
 * everything to each destination under `<backup-id>/files/` and write the manifest last, so a
 * copy with a manifest is a complete copy. Each copy is hashed again as it is read: a file that
 * changed since it was hashed fails that destination, which then gets no manifest. One destination
 * failing does not stop the others; the result says which ones hold the backup.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { listArtifacts } from './artifacts.js';
import { FILES_DIR, MANIFEST_NAME, MANIFEST_SCHEMA_VERSION, hashFile, verificationHash, type BackupManifest, type ManifestArtifact } from './manifest.js';
import { openStore } from './open-store.js';
import type { S3Options } from './s3-store.js';

export type BackupProgress =
  | { phase: 'hashed'; index: number; total: number; artifact: ManifestArtifact; ms: number }
  | { phase: 'copied'; destination: string; index: number; total: number; artifact: ManifestArtifact; ms: number }
  | { phase: 'destination_done'; destination: string; location: string; ok: boolean; error: string | null; ms: number };

export interface DestinationResult {
  uri: string;
  /** Where the copy is: pass this to `backup verify`. */
  location: string;
  ok: boolean;
  error: string | null;
  ms: number;
}

export interface BackupResult {
  manifest: BackupManifest;
  destinations: DestinationResult[];
  bytes: number;
  hashMs: number;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export async function recordBackup(options: {
  source: string;
  destinations: string[];
  s3?: S3Options;
  now?: Date;
  progress?: (p: BackupProgress) => void;
}): Promise<BackupResult> {
  const source = resolve(options.source);
  const st = await stat(source).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`model repository not found or not a directory: ${options.source}`);
  if (options.destinations.length === 0) throw new Error('no destination: pass --to <dir|s3://bucket/prefix> at least once');

  const { files, emptyDirectories } = await listArtifacts(source);
  if (files.length === 0) throw new Error(`nothing to back up: ${options.source} has no files`);
  const hashStarted = performance.now();
  const artifacts: ManifestArtifact[] = [];
  for (const [i, f] of files.entries()) {
    const t = performance.now();
    const { sha256, bytes } = await hashFile(f.absolutePath);
    const artifact: ManifestArtifact = { path: f.path, kind: f.kind, bytes, sha256 };
    artifacts.push(artifact);
    options.progress?.({ phase: 'hashed', index: i + 1, total: files.length, artifact, ms: performance.now() - t });
  }
  const hashMs = performance.now() - hashStarted;
  const hash = verificationHash(artifacts, emptyDirectories);
  const now = options.now ?? new Date();
  const manifest: BackupManifest = {
    schema_version: MANIFEST_SCHEMA_VERSION,
    backup_id: `${basename(source)}-${stamp(now)}-${hash.slice('sha256:'.length, 'sha256:'.length + 12)}`,
    created_at: now.toISOString(),
    source,
    artifacts,
    empty_directories: emptyDirectories,
    verification_hash: hash,
  };

  const destinations: DestinationResult[] = [];
  for (const uri of options.destinations) {
    const started = performance.now();
    let location = uri;
    let error: string | null = null;
    try {
      const store = openStore(uri, options.s3);
      location = store.locate(manifest.backup_id);
      try {
        for (const [i, a] of artifacts.entries()) {
          const t = performance.now();
          await store.putFile(`${manifest.backup_id}/${FILES_DIR}/${a.path}`, files[i]!.absolutePath, a);
          options.progress?.({ phase: 'copied', destination: uri, index: i + 1, total: artifacts.length, artifact: a, ms: performance.now() - t });
        }
        for (const d of emptyDirectories) await store.putDirectory(`${manifest.backup_id}/${FILES_DIR}/${d}`);
        await store.putBytes(`${manifest.backup_id}/${MANIFEST_NAME}`, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
      } finally {
        store.close();
      }
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const result = { uri, location, ok: error === null, error, ms: performance.now() - started };
    destinations.push(result);
    options.progress?.({ phase: 'destination_done', destination: uri, location, ok: result.ok, error, ms: result.ms });
  }
  return { manifest, destinations, bytes: artifacts.reduce((n, a) => n + a.bytes, 0), hashMs };
}
