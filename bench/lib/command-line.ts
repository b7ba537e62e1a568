/**
 * `parseArgs` for the bench commands: an unknown or malformed option prints the command's usage
 * and exits 2, `--help` prints it and exits 0, instead of a stack trace from node:util. A value
 * the command itself finds wrong (`--rate 0`) goes through refuseOption() the same way.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function parseCommandLine<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw err;
    refuseOption((err as Error).message, usage);
  }
}

/** A bad option value: says why, prints the usage and exits 2. */
export function refuseOption(message: string, usage: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}
