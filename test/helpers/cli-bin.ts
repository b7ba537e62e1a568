/**
 * Runs the real `triton-gateway` bin (src/cli/main.ts under tsx) in a child process, with only
 * PATH and the given variables in its environment: what a user's shell would start.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// Absolute, so the bin also starts with a working directory outside the checkout.
const TSX = import.meta.resolve('tsx');

export interface BinRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runBin(argv: string[], options: { cwd: string; env?: Record<string, string> }): Promise<BinRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...argv], { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
