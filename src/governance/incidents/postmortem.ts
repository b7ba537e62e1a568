/**
 * Renders runbooks/post-incident-review-template.md for one incident: each `{{name}}` becomes the
 * incident's value, the timeline merges the incident log with the governance events of the
 * incident's window (from `lookback` before the start to the resolution, or now), and whatever
 * the logs cannot know (impact, action items, ...) is left as "TBD" for the authors. The
 * template's leading instructions comment is dropped from the output.
 */
import { isRollForward, type GovernanceEvent } from '../events.js';
import type { Incident } from './incident-log.js';
import { formatDuration, impactDurationMs, timeToDetectMs, timeToMitigateMs } from './incident-times.js';

export const TBD = 'TBD';

/** 30 days at a 99.9% availability SLO (runbooks/incident-response.md). */
const MONTHLY_BUDGET_MS = 30 * 24 * 3600 * 1000 * 0.001;

export interface PostmortemOptions {
  events: readonly GovernanceEvent[];
  now: Date;
  lookbackMs: number;
  authors?: string;
}

export interface Postmortem {
  text: string;
  /** Placeholders in the template that this renderer does not know (rendered as TBD). */
  unknownPlaceholders: string[];
  timeline: Array<{ at: Date; text: string }>;
}

function stamp(d: Date): string {
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

function describeEvent(e: GovernanceEvent): string {
  switch (e.event) {
    case 'llm_engine_published':
      return `llm_engine_published: ${e.model} version ${e.engine.version ?? '?'} (engine ${e.engine.engine_hash ?? 'hash unknown'}${e.engine.quantisation ? `, ${e.engine.quantisation}` : ''})`;
    case 'llm_warmup_completed':
      return `llm_warmup_completed: ${e.model} version ${e.version ?? '?'} warmed up in ${Math.round(e.duration_ms)} ms`;
    case 'llm_warmup_failed':
      return `llm_warmup_failed: ${e.model} version ${e.version ?? '?'}: ${e.reason} (traffic kept off)`;
    case 'llm_rollback_completed':
      return `llm_rollback_completed: ${e.model} ${moved(e)}${onTarget(e)} by ${e.actor} (restored engine ${e.restored.engine_hash ?? 'hash unknown'})${e.reason ? `: ${e.reason}` : ''}`;
    case 'llm_rollback_failed':
      return e.stage === 'validate'
        ? `llm_rollback_failed: ${e.model} to version ${e.to_version} refused (${e.status} ${e.error_code}) by ${e.actor}; nothing was attempted`
        : `llm_rollback_failed: ${e.model} to version ${e.to_version} stopped at ${e.stage} (${e.status} ${e.error_code}) by ${e.actor}; ${e.serving_version === null ? 'no version known to serve' : `version ${e.serving_version} still pinned`}`;
    case 'llm_observability_alert': {
      const value = e.value === null ? 'no traffic' : e.unit === 'usd_per_request' ? `${e.value.toPrecision(3)} USD/request` : `${Math.round(e.value)} µs`;
      const threshold = e.unit === 'usd_per_request' ? `${e.threshold} USD/request` : `${e.threshold} µs`;
      return `llm_observability_alert ${e.status}: ${e.signal} on ${e.model}, mean ${value} over ${formatDuration(e.window_ms)} (threshold ${threshold})${e.waiver_id ? ', waived' : ''}`;
    }
    case 'llm_waiver_recorded':
      return `llm_waiver_recorded: ${e.signal} on ${e.model} accepted by ${e.actor} until ${stamp(new Date(e.expires_at))}: ${e.reason}`;
    case 'llm_backup_recorded':
      return `llm_backup_recorded: ${e.backup_id} (${e.artifacts} files, ${e.verification_hash.slice(0, 19)}…)`;
  }
}

/** Governance events from `lookbackMs` before the start to the resolution (or now). */
function eventsInWindow(inc: Incident, opts: PostmortemOptions): GovernanceEvent[] {
  const from = inc.startedAt.getTime() - opts.lookbackMs;
  const to = (inc.resolvedAt ?? opts.now).getTime();
  return opts.events.filter((e) => {
    const at = Date.parse(e.at);
    return at >= from && at <= to;
  });
}

function incidentTimeline(inc: Incident, opts: PostmortemOptions): Array<{ at: Date; text: string }> {
  const rows: Array<{ at: Date; text: string; order: number }> = [];
  const add = (at: Date, text: string, order: number) => rows.push({ at, text, order });
  add(inc.startedAt, `impact began: ${inc.title}`, 0);
  add(inc.openedAt, `incident ${inc.id} opened (${inc.severity}) by ${inc.openedBy}`, 1);
  if (inc.detectedAt) add(inc.detectedAt, `detected${inc.detectedBy ? ` by ${inc.detectedBy}` : ''}`, 2);
  for (const n of inc.notes) add(n.time, `${n.text} (${n.actor})`, 3);
  if (inc.mitigatedAt) add(inc.mitigatedAt, 'mitigated: user impact stopped', 4);
  if (inc.resolvedAt) add(inc.resolvedAt, 'resolved', 5);
  for (const e of eventsInWindow(inc, opts)) add(new Date(e.at), describeEvent(e), 3);
  rows.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
  return rows.map(({ at, text }) => ({ at, text }));
}

export function renderPostmortem(template: string, inc: Incident, opts: PostmortemOptions): Postmortem {
  const timeline = incidentTimeline(inc, opts);
  const oneDay = timeline.every((r) => r.at.toISOString().slice(0, 10) === timeline[0]!.at.toISOString().slice(0, 10));
  const clock = (d: Date) => (oneDay ? `${d.toISOString().slice(11, 16)} UTC` : stamp(d));
  const inWindow = eventsInWindow(inc, opts);

  const alerts = inWindow
    .filter((e): e is Extract<GovernanceEvent, { event: 'llm_observability_alert' }> => e.event === 'llm_observability_alert' && e.status === 'firing')
    .map((e) => `- ${clock(new Date(e.at))}: ${describeEvent(e)}`);
  if (inc.detectedAt && inc.detectedBy) alerts.unshift(`- ${clock(inc.detectedAt)}: ${inc.detectedBy} (detection)`);

  const rollbacks = inWindow
    .filter((e): e is Extract<GovernanceEvent, { event: 'llm_rollback_completed' }> => e.event === 'llm_rollback_completed')
    .map((e) => `- ${e.model} ${moved(e)}${onTarget(e)} at ${clock(new Date(e.at))} (llm_rollback_completed ${e.id}, by ${e.actor}).`);
  const resolution = [inc.resolution, ...rollbacks].filter((x): x is string => !!x).join('\n');

  const impactMs = impactDurationMs(inc);
  const duration = impactMs === null ? TBD : `${formatDuration(impactMs)}${inc.mitigatedAt ? '' : ' (to resolution: no mitigation time recorded)'}`;
  const budget = impactMs === null ? TBD : `${TBD} (upper bound, if every request failed: ${Math.round((impactMs / MONTHLY_BUDGET_MS) * 100)}% of the ${formatDuration(MONTHLY_BUDGET_MS)} monthly budget)`;
  const orTbd = (d: Date | null) => (d ? stamp(d) : TBD);
  const span = (ms: number | null) => (ms === null ? TBD : formatDuration(ms));

  const values: Record<string, string> = {
    title: inc.title,
    incident_id: inc.id,
    severity: inc.severity,
    date: inc.startedAt.toISOString().slice(0, 10),
    started_at: stamp(inc.startedAt),
    detected_at: orTbd(inc.detectedAt),
    mitigated_at: orTbd(inc.mitigatedAt),
    resolved_at: orTbd(inc.resolvedAt),
    time_to_detect: span(timeToDetectMs(inc)),
    time_to_mitigate: span(timeToMitigateMs(inc)),
    duration,
    impact: inc.description ? `${TBD} (opened as: ${inc.description})` : TBD,
    error_budget_spent: budget,
    alerts: alerts.length > 0 ? alerts.join('\n') : TBD,
    timeline: timeline.map((r) => `- ${clock(r.at)}: ${r.text}`).join('\n'),
    root_cause: inc.rootCause ?? TBD,
    resolution: resolution || TBD,
    action_items: `- [ ] ${TBD} (Owner: @name, Due: YYYY-MM-DD)`,
    authors: opts.authors ?? TBD,
  };

  const unknown = new Set<string>();
  const body = template.replace(/^\s*<!--[\s\S]*?-->\s*/, '');
  const text = body.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) {
      unknown.add(name);
      return TBD;
    }
    return v;
  });
  return { text, unknownPlaceholders: [...unknown], timeline };
}

/** The same event moves a model back, forward (a roll forward), or nowhere (a retry on the serving version). */
function moved(e: Extract<GovernanceEvent, { event: 'llm_rollback_completed' }>): string {
  const from = e.from_version ?? '?';
  if (from === e.to_version) return `stayed on version ${from} (already serving)`;
  return `rolled ${isRollForward(e.from_version, e.to_version) ? 'forward' : 'back'} from version ${from} to ${e.to_version}`;
}

/** A replica whose Triton another replica had already rolled back only re-pinned: say so, or one rollback reads as several. */
function onTarget(e: Extract<GovernanceEvent, { event: 'llm_rollback_completed' }>): string {
  return e.already_on_target === true ? ' (Triton was already on it: this replica only re-pinned)' : '';
}
