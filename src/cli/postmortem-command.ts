/**
 * `triton-gateway ops postmortem <id>`: the post-incident review, rendered from
 * runbooks/post-incident-review-template.md with the incident log and the governance events.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventLog } from '../governance/event-log.js';
import { IncidentError, IncidentLog } from '../governance/incidents/incident-log.js';
import { renderPostmortem } from '../governance/incidents/postmortem.js';
import { expectPositionals, parse } from './args.js';
import { EVENT_LOG_OPTION, eventLogPath } from './event-log-path.js';
import { incidentLogPath } from './incident-command.js';
import { CliError, EXIT, UsageError, note, type CliIo } from './io.js';

const TEMPLATE = 'runbooks/post-incident-review-template.md';

export const POSTMORTEM_USAGE = `Usage: triton-gateway ops postmortem <incident-id> [options]

Renders ${TEMPLATE} for the incident: its times and durations from
the incident log, a timeline merging the incident log with the governance events (warm-ups,
rollbacks, alerts, ...) of its window, and "TBD" where a person has to write.

Options:
  --template <path>       the template (default ./${TEMPLATE}, else the one shipped with the gateway)
${EVENT_LOG_OPTION}
  --log <path>            incident log (default $TRITON_GATEWAY_INCIDENT_LOG or ./data/incidents.jsonl)
  --lookback-minutes <n>  governance events from this long before the start (default 60)
  --authors <names>       who writes the review
  --out <file>            write to a file instead of stdout
  -h, --help              this help`;

function findTemplate(io: CliIo, flag: string | undefined): string {
  if (flag) return resolve(io.cwd, flag);
  const local = resolve(io.cwd, TEMPLATE);
  if (existsSync(local)) return local;
  // src/cli/ in development, dist/src/cli/ when built: the repository root is two or three up.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const candidate = resolve(here, up, TEMPLATE);
    if (existsSync(candidate)) return candidate;
  }
  return local;
}

export async function postmortemCommand(io: CliIo, argv: string[]): Promise<number> {
  const p = parse(
    io,
    argv,
    {
      template: { type: 'string' },
      'event-log': { type: 'string' },
      log: { type: 'string' },
      'lookback-minutes': { type: 'string' },
      authors: { type: 'string' },
      out: { type: 'string' },
    },
    POSTMORTEM_USAGE,
  );
  if (!p) return EXIT.ok;
  const [id] = expectPositionals(p, ['incident-id'], POSTMORTEM_USAGE);
  const lookback = Number(p.values['lookback-minutes'] ?? 60);
  if (!Number.isFinite(lookback) || lookback < 0) throw new UsageError('--lookback-minutes must be a number of minutes', POSTMORTEM_USAGE);

  const templatePath = findTemplate(io, p.values.template);
  const template = await readFile(templatePath, 'utf8').catch((err: Error) => {
    throw new CliError(`cannot read the template ${templatePath}: ${err.message}`);
  });
  let incident;
  try {
    incident = await new IncidentLog(incidentLogPath(io, p.values.log)).get(id!);
  } catch (err) {
    if (err instanceof IncidentError) throw new CliError(err.message);
    throw err;
  }
  const eventLogFile = eventLogPath(io, p.values['event-log']);
  // A log that is not there reads as no events, and the review would look complete without them.
  if (!existsSync(eventLogFile)) {
    // A path someone named (the flag or a variable) that is not there is a mistake; the default may just be unused.
    const named = p.values['event-log'] || io.env.GATEWAY_EVENT_LOG || io.env.GOVERNANCE_EVENT_LOG;
    if (named) throw new CliError(`no governance event log at ${eventLogFile}`, EXIT.usage);
    note(io, `warning: no governance event log at ${eventLogFile} (set --event-log or GATEWAY_EVENT_LOG); the timeline has no governance events`);
  }
  const events = await new EventLog(eventLogFile).read();
  if (events.problems.length > 0 || events.tornTail) {
    note(io, `warning: the governance event log has ${events.problems.length} unreadable line(s)${events.tornTail ? ' and a torn last line' : ''}; they are left out`);
  }
  const out = renderPostmortem(template, incident, {
    events: events.events,
    now: io.now(),
    lookbackMs: lookback * 60_000,
    authors: p.values.authors,
  });
  for (const name of out.unknownPlaceholders) note(io, `warning: the template's {{${name}}} is not something the incident log knows; left as TBD`);
  if (p.values.out) {
    await writeFile(resolve(io.cwd, p.values.out), out.text).catch((err: Error) => {
      throw new CliError(`cannot write the review: ${err.message}`);
    });
    note(io, `wrote ${p.values.out} (${out.timeline.length} timeline entries)`);
  } else {
    io.stdout(out.text.endsWith('\n') ? out.text : `${out.text}\n`);
  }
  if (!incident.resolvedAt) note(io, `note: ${incident.id} is not resolved yet; the timeline runs to now`);
  return EXIT.ok;
}
