/**
 * The `triton-gateway` command line: dispatch, help, and turning failures into a message and an
 * exit code (never a stack trace for a user error).
 */
import { JsonlFileError } from '../governance/jsonl-file.js';
import { backupCommand } from './backup-command.js';
import { DIAGNOSE_USAGE, diagnoseCommand } from './diagnose-command.js';
import { INCIDENT_USAGE, incidentCommand } from './incident-command.js';
import { CliError, EXIT, UsageError, line, note, type CliIo } from './io.js';
import { POSTMORTEM_USAGE, postmortemCommand } from './postmortem-command.js';

const USAGE = `Usage: triton-gateway <command> ...

On-call and governance tools for triton-gateway.

  backup record <model-repo> --to <dest>   back up a model repository (local dir or s3://)
  backup verify <copy>                     re-hash a backup copy, report every mismatch
  ops diagnose <gateway-url>               summarise /debug/diagnostics and what looks wrong
  ops incident open|detect|mitigate|resolve|note|list|show
                                           the incident log, with time to detect / resolve
  ops postmortem <incident-id>             render the post-incident review

Run 'triton-gateway <command> --help' for details.`;

const OPS_USAGE = `Usage: triton-gateway ops <diagnose|incident|postmortem> ...

${DIAGNOSE_USAGE.split('\n')[0]}
${INCIDENT_USAGE.split('\n')[0]}
${POSTMORTEM_USAGE.split('\n')[0]}`;

/** Node's fs errors carry an errno code (ENOENT, EISDIR, ...) and name the path in the message. */
function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string' && typeof (err as NodeJS.ErrnoException).code === 'string';
}

function help(io: CliIo, text: string, asked: boolean): number {
  line(io, text);
  return asked ? EXIT.ok : EXIT.usage;
}

async function dispatch(io: CliIo, argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  if (group === 'backup') return backupCommand(io, rest);
  if (group === 'ops') {
    const [sub, ...args] = rest;
    if (sub === 'diagnose') return diagnoseCommand(io, args);
    if (sub === 'incident') return incidentCommand(io, args);
    if (sub === 'postmortem') return postmortemCommand(io, args);
    if (sub === undefined || sub === '--help' || sub === '-h') return help(io, OPS_USAGE, sub !== undefined);
    throw new UsageError(`unknown ops command '${sub}'`, OPS_USAGE);
  }
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') return help(io, USAGE, group !== undefined);
  throw new UsageError(`unknown command '${group}'`, USAGE);
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(io, argv);
  } catch (err) {
    if (err instanceof UsageError) {
      note(io, `triton-gateway: ${err.message}`);
      note(io, `\n${err.usage}`);
      return err.exitCode;
    }
    if (err instanceof CliError) {
      note(io, `triton-gateway: ${err.message}`);
      return err.exitCode;
    }
    // A path that is a folder, a missing folder, no permission: the message names the file.
    if (err instanceof JsonlFileError || isFileSystemError(err)) {
      note(io, `triton-gateway: ${err.message}`);
      return EXIT.failed;
    }
    note(io, `triton-gateway: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT.failed;
  }
}
