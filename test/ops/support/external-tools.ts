/**
 * The Prometheus and Alertmanager tools the ops tests drive (Debian packages prometheus and
 * prometheus-alertmanager; `.ci/run` installs them). Tests skip with a printed reason when one is
 * missing, so `npm test` still works on a bare machine.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { repoRoot } from './repo-files.js';

/** Absolute path of an executable on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool from the repository root; resolves with its exit code and output (never rejects on exit code). */
export function runTool(path: string, args: readonly string[], timeoutMs = 60_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(path, args, { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** The skip message for a missing tool; `.ci/run` installs the Prometheus and Alertmanager packages. */
export function missingReason(name: string, debianPackage: string): string {
  const ci = /^prometheus/.test(debianPackage) ? ' (.ci/run does this)' : '';
  return `${name} not installed: apt-get install -y ${debianPackage}${ci}`;
}
