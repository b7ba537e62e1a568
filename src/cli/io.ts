/**
 * What a CLI command may touch, passed in so tests run commands in-process with their own
 * environment, clock and output, and src/cli/main.ts binds it to the real process.
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  now(): Date;
  cwd: string;
}

/** Exit codes: 0 ok, 1 the operation failed, 2 bad usage, 3 `ops diagnose` found problems. */
export const EXIT = { ok: 0, failed: 1, usage: 2, findings: 3 } as const;

/** A failure with a message for the user (no stack) and an exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string, readonly usage: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

export function line(io: CliIo, text = ''): void {
  io.stdout(`${text}\n`);
}

export function note(io: CliIo, text: string): void {
  io.stderr(`${text}\n`);
}
