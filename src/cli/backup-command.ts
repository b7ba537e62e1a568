/**
 * `triton-gateway backup record|verify`. Progress goes to stderr, results to stdout (or JSON
 * with --json), so the output can be piped.
 */
import { resolve } from 'node:path';
import { EventLog } from '../governance/event-log.js';
import type { ArtifactKind } from '../governance/backup/artifacts.js';
import { formatBytes, formatRate, formatSizeAndRate } from './byte-sizes.js';
import { destinationProblem, s3OptionsFromEnv } from '../governance/backup/open-store.js';
import { recordBackup } from '../governance/backup/record.js';
import { NotABackupError, verifyBackup } from '../governance/backup/verify.js';
import { GovernanceRecorder } from '../governance/recorder.js';
import { expectPositionals, parse } from './args.js';
import { EVENT_LOG_OPTION, eventLogPath } from './event-log-path.js';
import { CliError, EXIT, UsageError, line, note, type CliIo } from './io.js';

const RECORD_USAGE = `Usage: triton-gateway backup record <model-repo> --to <dest> [--to <dest> ...] [options]

Backs up a Triton model repository: lists every file (engine plan files, tokenizer files,
schema registry files, config.pbtxt, ...) and every empty folder, following symlinks (a broken
link, a link loop or a special file such as a FIFO fails the backup), hashes each file (sha256)
while it is copied (a file that changes meanwhile fails the backup) and the manifest as a whole
(the verification hash), copies them to each destination under <backup-id>/, and records
llm_backup_recorded in the governance event log.

A destination is a directory or s3://bucket/prefix (any S3-compatible store).

Options:
  --to <dest>             a destination; repeat for replicas
  --s3-endpoint <url>     S3 endpoint (default $S3_ENDPOINT, $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL)
  --part-size-mb <n>      multipart part size for large files (default 64, at least 5)
${EVENT_LOG_OPTION}
  --skip-event            do not record llm_backup_recorded
  --actor <name>          who ran the backup (default $USER)
  --json                  print the result as JSON
  -h, --help              this help

Exit: 0 every destination holds the backup and the event is recorded, 1 a destination failed
or the event could not be written to the event log (the result is printed first), 2 bad usage.`;

const VERIFY_USAGE = `Usage: triton-gateway backup verify <copy> [options]

Re-hashes every file of one backup copy (the <dest>/<backup-id> that 'backup record' printed)
and reports every mismatch: missing files, sizes or sha256 hashes that differ, files the
manifest does not list, empty folders missing or not listed, and a manifest whose verification
hash no longer matches it.

Options:
  --s3-endpoint <url>     S3 endpoint for s3:// copies (default from the environment)
  --json                  print the result as JSON
  -h, --help              this help

A <copy> with its files/ but no manifest (an interrupted backup: the manifest is written last)
is a mismatch. Something that is no backup copy at all (a path that does not exist, a file, a
folder or S3 prefix with neither backup-manifest.json nor files/, a bucket that does not
exist) is refused as bad usage.

Exit: 0 the copy verifies, 1 mismatches (or the copy cannot be read), 2 bad usage, including
a <copy> that is no backup copy.`;

export const BACKUP_USAGE = `Usage: triton-gateway backup <record|verify> ...

  record <model-repo> --to <dest>   back up a model repository with a verification hash
  verify <copy>                     re-hash a backup copy and report every mismatch

Run 'triton-gateway backup <command> --help' for its options.`;

/** `0.42s, 41.5 MiB/s`, or `0.42s` without a rate. */
function timeAndRate(bytes: number, ms: number): string {
  const rate = formatRate(bytes, ms);
  return rate ? `${secs(ms)}, ${rate}` : secs(ms);
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

export async function backupCommand(io: CliIo, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'record') return record(io, rest);
  if (sub === 'verify') return verify(io, rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    line(io, BACKUP_USAGE);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  throw new UsageError(`unknown backup command '${sub}'`, BACKUP_USAGE);
}

async function record(io: CliIo, argv: string[]): Promise<number> {
  const parsed = parse(
    io,
    argv,
    {
      to: { type: 'string', multiple: true },
      's3-endpoint': { type: 'string' },
      'part-size-mb': { type: 'string' },
      'event-log': { type: 'string' },
      'skip-event': { type: 'boolean' },
      actor: { type: 'string' },
      json: { type: 'boolean' },
    },
    RECORD_USAGE,
  );
  if (!parsed) return EXIT.ok;
  const [repo] = expectPositionals(parsed, ['model-repo'], RECORD_USAGE);
  const v = parsed.values;
  const destinations = v.to ?? [];
  if (destinations.length === 0) throw new UsageError('at least one --to <dest> is required', RECORD_USAGE);
  // Before hashing the repository, and before any event: a destination that cannot work is a usage mistake.
  for (const d of destinations) {
    const problem = destinationProblem(d);
    if (problem !== undefined) throw new UsageError(problem, RECORD_USAGE);
  }
  let partSizeBytes: number | undefined;
  if (v['part-size-mb'] !== undefined) {
    const mb = Number(v['part-size-mb']);
    if (!Number.isFinite(mb) || mb < 5) throw new UsageError('--part-size-mb must be a number, at least 5', RECORD_USAGE);
    partSizeBytes = Math.round(mb * 1024 * 1024);
  }
  const s3 = { ...s3OptionsFromEnv(io.env, v['s3-endpoint']), partSizeBytes };
  const started = performance.now();

  let result;
  try {
    result = await recordBackup({
      source: resolve(io.cwd, repo!),
      destinations: destinations.map((d) => located(io, d)),
      s3,
      now: io.now(),
      progress: (p) => {
        if (p.phase === 'hashed') note(io, `hash   [${p.index}/${p.total}] ${p.artifact.kind.padEnd(12)} ${p.artifact.path} (${formatSizeAndRate(p.artifact.bytes, p.ms)})`);
        else if (p.phase === 'copied') note(io, `copy   [${p.index}/${p.total}] ${p.destination}: ${p.artifact.path} (${formatSizeAndRate(p.artifact.bytes, p.ms)})`);
        else note(io, `${p.ok ? 'done' : 'FAILED'}   ${p.destination} in ${secs(p.ms)}${p.error ? `: ${p.error}` : ''}`);
      },
    });
  } catch (err) {
    throw new CliError(`backup failed: ${(err as Error).message}`);
  }

  const kinds: Partial<Record<ArtifactKind, number>> = {};
  for (const a of result.manifest.artifacts) kinds[a.kind] = (kinds[a.kind] ?? 0) + 1;
  // The backup exists whatever happens to its event: the result is printed either way.
  let eventId: string | null = null;
  let eventError: string | null = null;
  if (!v['skip-event']) {
    const path = eventLogPath(io, v['event-log']);
    const recorder = new GovernanceRecorder(new EventLog(path), {
      info: () => undefined,
      warn: (obj, msg) => note(io, `warning: ${msg ?? ''} ${JSON.stringify(obj)}`),
      error: (obj, msg) => note(io, `error: ${msg ?? ''} ${JSON.stringify(obj)}`),
    });
    try {
      await recorder.open();
      const event = await recorder.recordOrFail({
        event: 'llm_backup_recorded',
        backup_id: result.manifest.backup_id,
        source: result.manifest.source,
        verification_hash: result.manifest.verification_hash,
        artifacts: result.manifest.artifacts.length,
        bytes: result.bytes,
        kinds,
        destinations: result.destinations.map((d) => ({ uri: d.location, ok: d.ok, error: d.error })),
        actor: v.actor ?? io.env.USER ?? 'cli',
      });
      eventId = event.id;
    } catch (err) {
      eventError = (err as Error).message;
    } finally {
      await recorder.close().catch(() => undefined);
    }
  }

  const ok = result.destinations.every((d) => d.ok);
  const totalMs = performance.now() - started;
  if (v.json) {
    line(io, JSON.stringify({ ok, backup_id: result.manifest.backup_id, verification_hash: result.manifest.verification_hash, artifacts: result.manifest.artifacts.length, bytes: result.bytes, kinds, destinations: result.destinations, event_id: eventId, event_error: eventError, ms: Math.round(totalMs) }, null, 2));
  } else {
    line(io, `backup ${result.manifest.backup_id}`);
    line(io, `  verification hash  ${result.manifest.verification_hash}`);
    line(io, `  artifacts          ${result.manifest.artifacts.length} files, ${formatBytes(result.bytes)} (${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')})`);
    line(io, `  hashed in          ${timeAndRate(result.bytes, result.hashMs)}`);
    for (const d of result.destinations) line(io, `  ${d.ok ? 'ok    ' : 'FAILED'}             ${d.location} (${secs(d.ms)})${d.error ? `: ${d.error}` : ''}`);
    line(io, `  event              ${eventId ?? (eventError ? 'NOT RECORDED (see below)' : 'not recorded (--skip-event)')}`);
    line(io, `  total              ${secs(totalMs)}`);
  }
  if (eventError) {
    note(io, `triton-gateway: backup ${result.manifest.backup_id} was made, but llm_backup_recorded is not in the event log (ops postmortem will not show it): ${eventError}`);
    return EXIT.failed;
  }
  return ok ? EXIT.ok : EXIT.failed;
}

/** A local path against the working directory; s3:// and any other scheme as given (openStore refuses the ones it cannot use). */
function located(io: CliIo, where: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(where) ? where : resolve(io.cwd, where);
}

async function verify(io: CliIo, argv: string[]): Promise<number> {
  const parsed = parse(io, argv, { 's3-endpoint': { type: 'string' }, json: { type: 'boolean' } }, VERIFY_USAGE);
  if (!parsed) return EXIT.ok;
  const [copyArg] = expectPositionals(parsed, ['copy'], VERIFY_USAGE);
  const copy = located(io, copyArg!);
  const started = performance.now();
  let result;
  try {
    result = await verifyBackup({
      copy,
      s3: s3OptionsFromEnv(io.env, parsed.values['s3-endpoint']),
      progress: (p) => note(io, `verify [${p.index}/${p.total}] ${p.ok ? 'ok      ' : 'MISMATCH'} ${p.path}`),
    });
  } catch (err) {
    // Not a backup at all (a typo, the <dest> instead of <dest>/<backup-id>): bad usage, never
    // exit 1, which says a backup is damaged. A copy that cannot be read (network, permissions) is 1.
    if (err instanceof NotABackupError) throw new CliError(`cannot verify ${copy}: ${err.message}; give the <dest>/<backup-id> that 'backup record' printed`, EXIT.usage);
    throw new CliError(`cannot verify ${copy}: ${(err as Error).message}`);
  }
  const ms = performance.now() - started;
  if (parsed.values.json) {
    line(io, JSON.stringify({ ok: result.ok, location: copy, backup_id: result.manifest?.backup_id ?? null, checked: result.checked, empty_folders: result.checkedDirectories, bytes: result.bytes, mismatches: result.mismatches, ms: Math.round(ms) }, null, 2));
  } else {
    line(io, `${result.ok ? 'OK' : 'MISMATCH'} ${copy}`);
    if (result.manifest) line(io, `  backup ${result.manifest.backup_id}, ${result.checked} files${result.checkedDirectories > 0 ? ` and ${result.checkedDirectories} empty folders` : ''}, ${formatBytes(result.bytes)} re-hashed in ${timeAndRate(result.bytes, ms)}`);
    for (const m of result.mismatches) {
      const detail = m.problem === 'unexpected' ? 'not listed in the manifest' : `expected ${m.expected ?? '-'}, found ${m.actual ?? 'nothing'}`;
      line(io, `  ${m.problem.padEnd(10)} ${m.path}: ${detail}`);
    }
    if (!result.ok) line(io, `  ${result.mismatches.length} mismatch(es)`);
  }
  return result.ok ? EXIT.ok : EXIT.failed;
}
