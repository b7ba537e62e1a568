/**
 * Runs the `triton-gateway` CLI in-process with its own environment, working directory and clock,
 * capturing what it prints (the same runCli the bin calls).
 */
import { runCli } from '../../../src/cli/run.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: string[], options: { env?: Record<string, string>; cwd?: string; now?: () => Date } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: options.env ?? {},
    now: options.now ?? (() => new Date()),
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}
