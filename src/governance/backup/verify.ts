/**
 * `backup verify`: re-hash every file of one copy against its manifest and report every
 * mismatch, not just the first: a missing file or empty folder, a size or sha256 that differs, a
 * file or empty folder the manifest does not list (a stray numeric folder is a model version to
 * Triton), and a manifest whose verification hash no longer matches its own listing (edited
 * after the backup). Folder paths in mismatches end with '/'.
 *
 * A location that holds no backup at all (a path that does not exist, a file, a folder or prefix
 * with neither the manifest nor files/, a bucket that does not exist) throws NotABackupError: it
 * is a wrong argument, not a damaged backup. A copy with files/ and no manifest is one that
 * `backup record` did not finish (it writes the manifest last): a 'missing' manifest mismatch.
 */
import { FILES_DIR, MANIFEST_NAME, backupManifestSchema, hashStream, verificationHash, type BackupManifest } from './manifest.js';
import { openStore } from './open-store.js';
import type { S3Options } from './s3-store.js';
import { readAll, type BackupStore } from './store.js';

/** The location is not a backup copy at all; the message says why. */
export class NotABackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotABackupError';
  }
}

export interface Mismatch {
  path: string;
  problem: 'missing' | 'size' | 'sha256' | 'unexpected' | 'manifest';
  expected: string | null;
  actual: string | null;
}

export interface VerifyResult {
  location: string;
  manifest: BackupManifest | undefined;
  checked: number;
  /** Empty folders the manifest lists and that were checked. */
  checkedDirectories: number;
  bytes: number;
  mismatches: Mismatch[];
  ok: boolean;
}

/** The folders a '/'-separated path sits in: 'a/b/c' → ['a', 'a/b']; a folder key 'a/b/' → ['a', 'a/b']. */
function ancestors(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

export async function verifyBackup(options: {
  copy: string;
  s3?: S3Options;
  progress?: (p: { index: number; total: number; path: string; ok: boolean; ms: number }) => void;
}): Promise<VerifyResult> {
  let store: BackupStore;
  try {
    store = openStore(options.copy, options.s3);
  } catch (err) {
    throw new NotABackupError((err as Error).message);
  }
  const result: VerifyResult = { location: options.copy, manifest: undefined, checked: 0, checkedDirectories: 0, bytes: 0, mismatches: [], ok: false };
  try {
    const stream = await store.openRead(MANIFEST_NAME);
    if (!stream) {
      const problem = await store.rootProblem();
      if (problem) throw new NotABackupError(problem);
      if ((await store.list(`${FILES_DIR}/`)).length === 0) throw new NotABackupError(`not a backup copy: neither ${MANIFEST_NAME} nor ${FILES_DIR}/ is there`);
      result.mismatches.push({ path: MANIFEST_NAME, problem: 'missing', expected: 'a backup manifest', actual: null });
      return result;
    }
    let manifest: BackupManifest;
    try {
      manifest = backupManifestSchema.parse(JSON.parse((await readAll(stream)).toString('utf8')));
    } catch (err) {
      result.mismatches.push({ path: MANIFEST_NAME, problem: 'manifest', expected: 'a valid backup manifest', actual: (err as Error).message.split('\n')[0]! });
      return result;
    }
    result.manifest = manifest;
    const emptyDirectories = manifest.empty_directories ?? [];
    const recomputed = verificationHash(manifest.artifacts, emptyDirectories);
    if (recomputed !== manifest.verification_hash) {
      result.mismatches.push({ path: MANIFEST_NAME, problem: 'manifest', expected: manifest.verification_hash, actual: recomputed });
    }

    const listed = new Set(manifest.artifacts.map((a) => a.path));
    for (const [i, a] of manifest.artifacts.entries()) {
      const t = performance.now();
      const s = await store.openRead(`${FILES_DIR}/${a.path}`);
      let ok = false;
      if (!s) {
        result.mismatches.push({ path: a.path, problem: 'missing', expected: a.sha256, actual: null });
      } else {
        const got = await hashStream(s);
        result.bytes += got.bytes;
        if (got.bytes !== a.bytes) result.mismatches.push({ path: a.path, problem: 'size', expected: String(a.bytes), actual: String(got.bytes) });
        if (got.sha256 !== a.sha256) result.mismatches.push({ path: a.path, problem: 'sha256', expected: a.sha256, actual: got.sha256 });
        ok = got.bytes === a.bytes && got.sha256 === a.sha256;
      }
      result.checked += 1;
      options.progress?.({ index: i + 1, total: manifest.artifacts.length, path: a.path, ok, ms: performance.now() - t });
    }
    const keys = (await store.list(`${FILES_DIR}/`)).map((k) => k.slice(FILES_DIR.length + 1));
    // A folder is there when its marker or anything below it is (S3 has no folders, only keys).
    const present = new Set(keys.flatMap(ancestors));
    for (const d of emptyDirectories) {
      if (!present.has(d)) result.mismatches.push({ path: `${d}/`, problem: 'missing', expected: 'an empty folder', actual: null });
      result.checkedDirectories += 1;
    }
    const expectedFolders = new Set([...listed, ...emptyDirectories.map((d) => `${d}/`)].flatMap(ancestors));
    for (const path of keys) {
      if (path.endsWith('/')) {
        const folder = path.slice(0, -1);
        // Only a stray folder with nothing below it: anything below is reported by itself.
        if (!expectedFolders.has(folder) && !keys.some((k) => k !== path && k.startsWith(path))) {
          result.mismatches.push({ path, problem: 'unexpected', expected: null, actual: 'folder not in the manifest' });
        }
      } else if (!listed.has(path) && !path.endsWith('.partial')) {
        result.mismatches.push({ path, problem: 'unexpected', expected: null, actual: 'not in the manifest' });
      }
    }
    result.ok = result.mismatches.length === 0;
    return result;
  } finally {
    store.close();
  }
}
