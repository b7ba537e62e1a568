/**
 * The error of a configuration that must be refused: every problem, one a line. On its own so that
 * what config.ts checks with (the chat templates) can throw it without importing config.ts back.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
