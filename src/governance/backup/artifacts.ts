/**
 * What a model-repository backup holds: every regular file under the repository, each with the
 * kind the runbooks name (engine plan files, tokenizer files, schema registry files, Triton's
 * config.pbtxt; anything else is kept as "other"). Paths are relative and '/'-separated so a
 * manifest reads the same on every OS and as S3 keys.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export type ArtifactKind = 'engine_plan' | 'tokenizer' | 'schema' | 'model_config' | 'other';

export interface ArtifactFile {
  /** Relative to the repository root, '/'-separated. */
  path: string;
  absolutePath: string;
  kind: ArtifactKind;
  bytes: number;
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

/** Every regular file under `root`, sorted by path; symlinks and VCS folders are left out. */
export async function listArtifacts(root: string): Promise<ArtifactFile[]> {
  const out: ArtifactFile[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === '.git') continue;
        await walk(abs);
      } else if (e.isFile()) {
        const rel = relative(root, abs).split(sep).join('/');
        out.push({ path: rel, absolutePath: abs, kind: classify(rel), bytes: (await lstat(abs)).size });
      }
    }
  }
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
