/**
 * node:util parseArgs with the CLI's conventions: strict options, `--help`/`-h` on every
 * command, and parse errors turned into a UsageError that prints the command's usage.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type CliIo } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string };
  positionals: string[];
}

/** Returns undefined when help was printed. */
export function parse<O extends Options>(io: CliIo, argv: string[], options: O, usage: string): Parsed<O> | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  if ((parsed.values as Record<string, unknown>).help) {
    io.stdout(`${usage.trimEnd()}\n`);
    return undefined;
  }
  return parsed as unknown as Parsed<O>;
}

export function expectPositionals(parsed: { positionals: string[] }, names: string[], usage: string): string[] {
  if (parsed.positionals.length < names.length) throw new UsageError(`missing ${names.slice(parsed.positionals.length).map((n) => `<${n}>`).join(' ')}`, usage);
  if (parsed.positionals.length > names.length) throw new UsageError(`unexpected argument '${parsed.positionals[names.length]}'`, usage);
  return parsed.positionals;
}
