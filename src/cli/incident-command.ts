/**
 * `triton-gateway ops incident open|detect|mitigate|resolve|note|list|show`: the incident log.
 */
import { resolve } from 'node:path';
import { IncidentError, IncidentLog, SEVERITIES, incidentStatus, severitySchema, type Incident } from '../governance/incidents/incident-log.js';
import { formatDuration, impactDurationMs, timeToDetectMs, timeToMitigateMs, timeToResolveMs } from '../governance/incidents/incident-times.js';
import { expectPositionals, parse } from './args.js';
import { CliError, EXIT, UsageError, line, type CliIo } from './io.js';
import { parseTime } from './time-arg.js';

const DEFAULT_INCIDENT_LOG = './data/incidents.jsonl';

const LOG_OPTION = `  --log <path>            incident log (default $TRITON_GATEWAY_INCIDENT_LOG or ${DEFAULT_INCIDENT_LOG})`;
const TIME_HELP = `Times: ISO 8601 with a zone (2025-11-18T14:30:00Z), 'now', or relative: '-15m', '15m ago', '-2h'.`;

export const INCIDENT_USAGE = `Usage: triton-gateway ops incident <command> ...

  open --sev SEV2 --title "..." [--started-at T]   open an incident (prints its id)
  detect <id> [--at T] [--by "HighErrorRate"]      record when it was detected
  mitigate <id> [--at T] [--note "..."]            record when user impact stopped
  resolve <id> [--at T] [--root-cause "..."] [--resolution "..."]
  note <id> "text" [--at T]                        add a timeline entry
  list [--all] [--json]                            open incidents (all with --all)
  show <id> [--json]                               one incident with its durations

Time to detect = detected − started; time to resolve = resolved − detected.
${TIME_HELP}
Run 'triton-gateway ops incident <command> --help' for its options.`;

const OPEN_USAGE = `Usage: triton-gateway ops incident open --sev <SEV1|SEV2|SEV3|SEV4> --title "<what users see>" [options]

Options:
  --sev <level>           ${Object.entries(SEVERITIES).map(([k, v]) => `${k} ${v.split(' - ')[0]}`).join(', ')}
  --title <text>          one line: what users experience
  --description <text>    more detail
  --started-at <time>     when the impact began (default now; often earlier than the page)
  --actor <name>          who opened it (default $USER)
${LOG_OPTION}
  --json                  print the incident as JSON
  -h, --help              this help

${TIME_HELP}`;

const stepUsage = (cmd: string, extra: string) => `Usage: triton-gateway ops incident ${cmd} <id> [options]

Options:
  --at <time>             when it happened (default now)
${extra}  --actor <name>          who recorded it (default $USER)
${LOG_OPTION}
  --json                  print the incident as JSON
  -h, --help              this help

${TIME_HELP}`;

const DETECT_USAGE = stepUsage('detect', '  --by <text>             what detected it (an alert name, a customer report)\n');
const MITIGATE_USAGE = stepUsage('mitigate', '  --note <text>           what stopped the impact\n');
const RESOLVE_USAGE = stepUsage('resolve', '  --root-cause <text>     the cause, and why it was possible\n  --resolution <text>     what restored service, then what fixed the cause\n');
const NOTE_USAGE = `Usage: triton-gateway ops incident note <id> "<text>" [--at <time>] [--actor <name>] [--log <path>]`;
const LIST_USAGE = `Usage: triton-gateway ops incident list [--all] [--json] [--log <path>]`;
const SHOW_USAGE = `Usage: triton-gateway ops incident show <id> [--json] [--log <path>]`;

const common = { actor: { type: 'string' }, log: { type: 'string' }, json: { type: 'boolean' } } as const;

/** `--log`, else TRITON_GATEWAY_INCIDENT_LOG, else the default; empty is unset (not the working folder). */
export function incidentLogPath(io: CliIo, flag: string | undefined): string {
  return resolve(io.cwd, flag || io.env.TRITON_GATEWAY_INCIDENT_LOG || DEFAULT_INCIDENT_LOG);
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function incidentJson(inc: Incident) {
  return {
    id: inc.id,
    severity: inc.severity,
    title: inc.title,
    description: inc.description,
    status: incidentStatus(inc),
    started_at: iso(inc.startedAt),
    detected_at: iso(inc.detectedAt),
    detected_by: inc.detectedBy,
    mitigated_at: iso(inc.mitigatedAt),
    resolved_at: iso(inc.resolvedAt),
    time_to_detect_ms: timeToDetectMs(inc),
    time_to_mitigate_ms: timeToMitigateMs(inc),
    time_to_resolve_ms: timeToResolveMs(inc),
    impact_duration_ms: impactDurationMs(inc),
    root_cause: inc.rootCause,
    resolution: inc.resolution,
    notes: inc.notes.map((n) => ({ time: n.time.toISOString(), text: n.text, actor: n.actor })),
  };
}

function printIncident(io: CliIo, inc: Incident, json: boolean | undefined): void {
  if (json) {
    line(io, JSON.stringify(incidentJson(inc), null, 2));
    return;
  }
  line(io, `${inc.id}  ${inc.severity}  ${incidentStatus(inc)}  ${inc.title}`);
  line(io, `  started    ${inc.startedAt.toISOString()}`);
  line(io, `  detected   ${iso(inc.detectedAt) ?? '—'}${inc.detectedBy ? ` (by ${inc.detectedBy})` : ''}   time to detect ${formatDuration(timeToDetectMs(inc))}`);
  line(io, `  mitigated  ${iso(inc.mitigatedAt) ?? '—'}   time to mitigate ${formatDuration(timeToMitigateMs(inc))}`);
  line(io, `  resolved   ${iso(inc.resolvedAt) ?? '—'}   time to resolve ${formatDuration(timeToResolveMs(inc))}`);
}

export async function incidentCommand(io: CliIo, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'open':
        return await open(io, rest);
      case 'detect':
      case 'mitigate':
      case 'resolve':
        return await step(io, sub, rest);
      case 'note':
        return await addNote(io, rest);
      case 'list':
        return await list(io, rest);
      case 'show':
        return await show(io, rest);
      case undefined:
      case '--help':
      case '-h':
        line(io, INCIDENT_USAGE);
        return sub === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown incident command '${sub}'`, INCIDENT_USAGE);
    }
  } catch (err) {
    if (err instanceof IncidentError) throw new CliError(err.message);
    throw err;
  }
}

async function withLog<T>(path: string, fn: (log: IncidentLog) => Promise<T>): Promise<T> {
  const log = new IncidentLog(path);
  try {
    return await fn(log);
  } finally {
    await log.close();
  }
}

async function open(io: CliIo, argv: string[]): Promise<number> {
  const p = parse(io, argv, { ...common, sev: { type: 'string' }, title: { type: 'string' }, description: { type: 'string' }, 'started-at': { type: 'string' } }, OPEN_USAGE);
  if (!p) return EXIT.ok;
  expectPositionals(p, [], OPEN_USAGE);
  const sev = severitySchema.safeParse(p.values.sev?.toUpperCase());
  if (!sev.success) throw new UsageError(`--sev must be one of SEV1, SEV2, SEV3, SEV4${p.values.sev ? `, got '${p.values.sev}'` : ''}`, OPEN_USAGE);
  if (!p.values.title?.trim()) throw new UsageError('--title is required', OPEN_USAGE);
  const now = io.now();
  const startedAt = p.values['started-at'] ? parseTime(p.values['started-at'], now, '--started-at') : now;
  const inc = await withLog(incidentLogPath(io, p.values.log), (log) =>
    log.open({ severity: sev.data, title: p.values.title!.trim(), description: p.values.description, startedAt, actor: p.values.actor ?? io.env.USER ?? 'cli', now }),
  );
  if (p.values.json) printIncident(io, inc, true);
  else line(io, `${inc.id} opened (${inc.severity}: ${SEVERITIES[inc.severity]}), started ${inc.startedAt.toISOString()}`);
  return EXIT.ok;
}

async function step(io: CliIo, cmd: 'detect' | 'mitigate' | 'resolve', argv: string[]): Promise<number> {
  const usage = cmd === 'detect' ? DETECT_USAGE : cmd === 'mitigate' ? MITIGATE_USAGE : RESOLVE_USAGE;
  const p = parse(io, argv, { ...common, at: { type: 'string' }, by: { type: 'string' }, note: { type: 'string' }, 'root-cause': { type: 'string' }, resolution: { type: 'string' } }, usage);
  if (!p) return EXIT.ok;
  const [id] = expectPositionals(p, ['id'], usage);
  const misplaced = cmd === 'detect' ? ['note', 'root-cause', 'resolution'] : cmd === 'mitigate' ? ['by', 'root-cause', 'resolution'] : ['by', 'note'];
  for (const m of misplaced) if ((p.values as Record<string, unknown>)[m] !== undefined) throw new UsageError(`--${m} does not apply to '${cmd}'`, usage);
  const now = io.now();
  const at = p.values.at ? parseTime(p.values.at, now, '--at') : now;
  if (at.getTime() > now.getTime()) throw new CliError('--at is in the future');
  const actor = p.values.actor ?? io.env.USER ?? 'cli';
  const inc = await withLog(incidentLogPath(io, p.values.log), (log) =>
    cmd === 'detect'
      ? log.detect(id!, { at, by: p.values.by, actor, now })
      : cmd === 'mitigate'
        ? log.mitigate(id!, { at, note: p.values.note, actor, now })
        : log.resolve(id!, { at, rootCause: p.values['root-cause'], resolution: p.values.resolution, actor, now }),
  );
  if (p.values.json) {
    printIncident(io, inc, true);
  } else if (cmd === 'detect') {
    line(io, `${inc.id} detected at ${iso(inc.detectedAt)}: time to detect ${formatDuration(timeToDetectMs(inc))}`);
  } else if (cmd === 'mitigate') {
    line(io, `${inc.id} mitigated at ${iso(inc.mitigatedAt)}: time to mitigate ${formatDuration(timeToMitigateMs(inc))}, impact ${formatDuration(impactDurationMs(inc))}`);
  } else {
    line(io, `${inc.id} resolved at ${iso(inc.resolvedAt)}: time to detect ${formatDuration(timeToDetectMs(inc))}, time to resolve ${formatDuration(timeToResolveMs(inc))}`);
    line(io, `write the review: triton-gateway ops postmortem ${inc.id} > ${inc.id}.md`);
  }
  return EXIT.ok;
}

async function addNote(io: CliIo, argv: string[]): Promise<number> {
  const p = parse(io, argv, { ...common, at: { type: 'string' } }, NOTE_USAGE);
  if (!p) return EXIT.ok;
  const [id, text] = expectPositionals(p, ['id', 'text'], NOTE_USAGE);
  if (!text!.trim()) throw new UsageError('the note is empty', NOTE_USAGE);
  const now = io.now();
  const at = p.values.at ? parseTime(p.values.at, now, '--at') : now;
  const inc = await withLog(incidentLogPath(io, p.values.log), (log) => log.note(id!, { at, text: text!.trim(), actor: p.values.actor ?? io.env.USER ?? 'cli', now }));
  if (p.values.json) printIncident(io, inc, true);
  else line(io, `${inc.id}: note added at ${at.toISOString()}`);
  return EXIT.ok;
}

async function list(io: CliIo, argv: string[]): Promise<number> {
  const p = parse(io, argv, { log: { type: 'string' }, json: { type: 'boolean' }, all: { type: 'boolean' } }, LIST_USAGE);
  if (!p) return EXIT.ok;
  expectPositionals(p, [], LIST_USAGE);
  const read = await new IncidentLog(incidentLogPath(io, p.values.log)).read();
  const incidents = [...read.incidents.values()].filter((i) => p.values.all || !i.resolvedAt);
  if (p.values.json) {
    line(io, JSON.stringify(incidents.map(incidentJson), null, 2));
  } else if (incidents.length === 0) {
    line(io, p.values.all ? 'no incidents' : 'no open incidents');
  } else {
    for (const inc of incidents) {
      line(io, `${inc.id}  ${inc.severity}  ${incidentStatus(inc).padEnd(9)}  started ${inc.startedAt.toISOString()}  ttd ${formatDuration(timeToDetectMs(inc)).padEnd(8)} ttr ${formatDuration(timeToResolveMs(inc)).padEnd(8)} ${inc.title}`);
    }
  }
  if (read.problems.length > 0 || read.torn) io.stderr(`warning: ${read.problems.length} unreadable line(s)${read.torn ? ' and a torn last line' : ''} skipped in the incident log\n`);
  return EXIT.ok;
}

async function show(io: CliIo, argv: string[]): Promise<number> {
  const p = parse(io, argv, { log: { type: 'string' }, json: { type: 'boolean' } }, SHOW_USAGE);
  if (!p) return EXIT.ok;
  const [id] = expectPositionals(p, ['id'], SHOW_USAGE);
  const inc = await new IncidentLog(incidentLogPath(io, p.values.log)).get(id!);
  printIncident(io, inc, p.values.json);
  return EXIT.ok;
}
