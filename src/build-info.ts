/**
 * Version and git commit for diagnostics: the commit comes from GIT_COMMIT (set by the image
 * build) or, in a checkout, from .git; read once at start-up.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findUp(start: string, name: string): string | null {
  let dir = start;
  for (let i = 0; i < 6; i += 1) {
    try {
      readFileSync(join(dir, name));
      return join(dir, name);
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return null;
      dir = parent;
    }
  }
  return null;
}

function gitCommit(root: string): string | null {
  try {
    const head = readFileSync(join(root, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    try {
      return readFileSync(join(root, '.git', ref), 'utf8').trim();
    } catch {
      const packed = readFileSync(join(root, '.git', 'packed-refs'), 'utf8');
      return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.split(' ')[0] ?? null;
    }
  } catch {
    return null;
  }
}

export function buildInfo(): { version: string; commit: string | null } {
  const pkgPath = findUp(dirname(fileURLToPath(import.meta.url)), 'package.json');
  let version = 'unknown';
  if (pkgPath) {
    try {
      version = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      /* version stays unknown */
    }
  }
  // An image built without --build-arg GIT_COMMIT has it set to '': that is no commit either.
  return { version, commit: process.env.GIT_COMMIT || (pkgPath ? gitCommit(dirname(pkgPath)) : null) };
}
