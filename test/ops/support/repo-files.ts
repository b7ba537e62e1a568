/** Reading the repository's operations files from tests. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function repoPath(...parts: string[]): string {
  return join(repoRoot, ...parts);
}

export function readText(relPath: string): string {
  return readFileSync(repoPath(relPath), 'utf8');
}

export function readYaml<T = unknown>(relPath: string): T {
  return parse(readText(relPath)) as T;
}

export function readJson<T = unknown>(relPath: string): T {
  return JSON.parse(readText(relPath)) as T;
}

export function exists(relPath: string): boolean {
  return existsSync(repoPath(relPath));
}

/** Files under a repository folder (recursive), as repository-relative paths, sorted. */
export function listFiles(relDir: string, suffixes: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (suffixes.some((s) => entry.endsWith(s))) out.push(relative(repoRoot, full));
    }
  };
  walk(repoPath(relDir));
  return out;
}

/** Every YAML document of a file; throws with the file name on the first syntax error. */
export function readYamlDocuments(relPath: string): unknown[] {
  return parseAllDocuments(readText(relPath)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${relPath}: ${doc.errors[0]!.message}`);
    return doc.toJS();
  });
}
