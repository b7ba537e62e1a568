/**
 * What a model-repository backup holds: every file under the repository, each with the kind the
 * runbooks name (engine plan files, tokenizer files, schema registry files, Triton's
 * config.pbtxt; anything else is kept as "other"), and every folder that holds no file (Triton
 * needs the empty version folder of an ensemble, `ensemble/1/`). Paths are relative and
 * '/'-separated so a manifest reads the same on every OS and as S3 keys.
 *
 * Symlinks are followed, wherever they point: engine plan files are usually links into a shared
 * engine store and a Hugging Face snapshot is a folder of links into `blobs/`, and a backup
 * without their content is no backup. The content is kept under the link's path, so a restore
 * gives plain files and folders. What cannot be backed up is refused as a whole, never dropped:
 * a broken link, a link back to a folder it sits in (it would never end), a FIFO, socket or
 * device, or an entry that cannot be read. `listArtifacts` then throws, naming every one.
 */
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { byPath } from './manifest.js';

export type ArtifactKind = 'engine_plan' | 'tokenizer' | 'schema' | 'model_config' | 'other';

export interface ArtifactFile {
  /** Relative to the repository root, '/'-separated. */
  path: string;
  absolutePath: string;
  kind: ArtifactKind;
  bytes: number;
}

export interface ArtifactListing {
  /** Sorted by path. */
  files: ArtifactFile[];
  /** Folders with no file anywhere below them, sorted; every other folder is implied by a file path. */
  emptyDirectories: string[];
}

const TOKENIZER_FILES = new Set([
  'tokenizer.json', 'tokenizer_config.json', 'tokenizer.model', 'special_tokens_map.json', 'vocab.json', 'vocab.txt',
  'merges.txt', 'added_tokens.json', 'generation_config.json', 'tokenizer_info.json', 'spiece.model',
]);

/** Pure: the kind of one repository path. */
export function classify(path: string): ArtifactKind {
  const parts = path.split('/');
  const base = parts[parts.length - 1]!.toLowerCase();
  const dirs = parts.slice(0, -1).map((p) => p.toLowerCase());
  if (base === 'config.pbtxt') return 'model_config';
  if (/\.(engine|plan|trt)$/.test(base)) return 'engine_plan';
  if (TOKENIZER_FILES.has(base) || base.startsWith('tokenizer') || dirs.some((d) => d.startsWith('tokenizer'))) return 'tokenizer';
  if (dirs.includes('schemas') || /\.schema\.json$/.test(base)) return 'schema';
  return 'other';
}

export class UnbackableEntriesError extends Error {
  constructor(
    root: string,
    readonly entries: Array<{ path: string; reason: string }>,
  ) {
    super(`cannot back up ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} under ${root}, nothing was copied: ${entries.map((e) => `${e.path} (${e.reason})`).join('; ')}`);
    this.name = 'UnbackableEntriesError';
  }
}

function identity(s: Stats): string {
  return `${s.dev}:${s.ino}`;
}

function errorReason(err: unknown, fallback: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'broken symlink';
  if (code === 'ELOOP') return 'symlink loop';
  return code ? `${fallback}: ${code}` : fallback;
}

/**
 * Every file and empty folder under `root`, symlinks followed; VCS folders (`.git`) are left out.
 * Throws UnbackableEntriesError listing everything it could not take.
 */
export async function listArtifacts(root: string): Promise<ArtifactListing> {
  const files: ArtifactFile[] = [];
  const emptyDirectories: string[] = [];
  const refused: Array<{ path: string; reason: string }> = [];

  // `ancestors` holds the dev:ino of every folder from the root down to `dir` (as reached, links
  // followed): a folder already in it is a loop. Returns whether anything was kept below `dir`.
  async function walk(dir: string, rel: string, ancestors: ReadonlySet<string>): Promise<boolean> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      refused.push({ path: rel || '.', reason: errorReason(err, 'cannot read folder') });
      return true;
    }
    let kept = false;
    for (const name of names) {
      const abs = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      let st: Stats;
      try {
        st = await stat(abs);
      } catch (err) {
        refused.push({ path, reason: errorReason(err, 'cannot stat') });
        continue;
      }
      if (st.isDirectory()) {
        if (name === '.git') continue;
        const id = identity(st);
        if (ancestors.has(id)) {
          refused.push({ path, reason: 'symlink loop: links to a folder it is inside' });
          continue;
        }
        if (!(await walk(abs, path, new Set([...ancestors, id])))) emptyDirectories.push(path);
        kept = true;
      } else if (st.isFile()) {
        files.push({ path, absolutePath: abs, kind: classify(path), bytes: st.size });
        kept = true;
      } else {
        refused.push({ path, reason: 'not a regular file or folder (FIFO, socket or device)' });
      }
    }
    return kept;
  }

  await walk(root, '', new Set([identity(await stat(root))]));
  if (refused.length > 0) throw new UnbackableEntriesError(root, refused.sort((a, b) => byPath(a.path, b.path)));
  return { files: files.sort((a, b) => byPath(a.path, b.path)), emptyDirectories: emptyDirectories.sort(byPath) };
}
