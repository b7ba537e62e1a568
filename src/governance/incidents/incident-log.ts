/**
 * The incident log: a JSONL file of incident records (opened, detected, mitigated, resolved,
 * note), appended with fsync like the event log. An incident is the fold of its records. Times
 * are explicit fields (started_at, detected_at, ...), not the time a record was written: on-call
 * often records a detection minutes after it happened.
 *
 * The rules the seed's Incident class broke are enforced here: detection is a recorded time of
 * its own, it cannot precede the start, and resolution needs a detection and cannot precede it.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { JsonlAppender, readJsonl, type LineProblem } from '../jsonl-file.js';

export const SEVERITIES = {
  SEV1: 'Critical - service down or most requests failing',
  SEV2: 'High - major functionality impaired',
  SEV3: 'Medium - degraded performance',
  SEV4: 'Low - minor issue',
} as const;
export type Severity = keyof typeof SEVERITIES;
export const severitySchema = z.enum(['SEV1', 'SEV2', 'SEV3', 'SEV4']);

const iso = z.string().datetime({ offset: true });
const base = { schema_version: z.literal(1), id: z.string().min(1), recorded_at: iso, actor: z.string() };

export const incidentRecordSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('opened'), severity: severitySchema, title: z.string().min(1), description: z.string().nullable(), started_at: iso }).strict(),
  z.object({ ...base, type: z.literal('detected'), detected_at: iso, detected_by: z.string().nullable() }).strict(),
  z.object({ ...base, type: z.literal('mitigated'), mitigated_at: iso, note: z.string().nullable() }).strict(),
  z.object({ ...base, type: z.literal('resolved'), resolved_at: iso, root_cause: z.string().nullable(), resolution: z.string().nullable() }).strict(),
  z.object({ ...base, type: z.literal('note'), time: iso, text: z.string().min(1) }).strict(),
]);
export type IncidentRecord = z.infer<typeof incidentRecordSchema>;

export interface Incident {
  id: string;
  severity: Severity;
  title: string;
  description: string | null;
  startedAt: Date;
  detectedAt: Date | null;
  detectedBy: string | null;
  mitigatedAt: Date | null;
  resolvedAt: Date | null;
  rootCause: string | null;
  resolution: string | null;
  notes: Array<{ time: Date; text: string; actor: string }>;
  openedBy: string;
  /** When the incident was opened in the log (may be later than startedAt). */
  openedAt: Date;
}

export class IncidentError extends Error {
  override name = 'IncidentError';
}

/** Pure: incidents from records, in record order; records of unknown incidents are ignored. */
function foldIncidents(records: readonly IncidentRecord[]): Map<string, Incident> {
  const out = new Map<string, Incident>();
  for (const r of records) {
    if (r.type === 'opened') {
      out.set(r.id, {
        id: r.id,
        severity: r.severity,
        title: r.title,
        description: r.description,
        startedAt: new Date(r.started_at),
        detectedAt: null,
        detectedBy: null,
        mitigatedAt: null,
        resolvedAt: null,
        rootCause: null,
        resolution: null,
        notes: [],
        openedBy: r.actor,
        openedAt: new Date(r.recorded_at),
      });
      continue;
    }
    const inc = out.get(r.id);
    if (!inc) continue;
    if (r.type === 'detected') {
      inc.detectedAt = new Date(r.detected_at);
      inc.detectedBy = r.detected_by;
    } else if (r.type === 'mitigated') {
      inc.mitigatedAt = new Date(r.mitigated_at);
      if (r.note) inc.notes.push({ time: inc.mitigatedAt, text: r.note, actor: r.actor });
    } else if (r.type === 'resolved') {
      inc.resolvedAt = new Date(r.resolved_at);
      inc.rootCause = r.root_cause;
      inc.resolution = r.resolution;
    } else {
      inc.notes.push({ time: new Date(r.time), text: r.text, actor: r.actor });
    }
  }
  return out;
}

export function incidentStatus(inc: Incident): 'open' | 'detected' | 'mitigated' | 'resolved' {
  if (inc.resolvedAt) return 'resolved';
  if (inc.mitigatedAt) return 'mitigated';
  if (inc.detectedAt) return 'detected';
  return 'open';
}

function newId(at: Date): string {
  return `INC-${at.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
}

export class IncidentLog {
  private readonly appender: JsonlAppender;

  constructor(readonly path: string) {
    this.appender = new JsonlAppender(path);
  }

  async read(): Promise<{ incidents: Map<string, Incident>; problems: LineProblem[]; torn: boolean }> {
    const read = await readJsonl(this.path, (v) => incidentRecordSchema.parse(v));
    return { incidents: foldIncidents(read.records), problems: read.problems, torn: read.tornTail !== undefined };
  }

  async get(id: string): Promise<Incident> {
    const inc = (await this.read()).incidents.get(id);
    if (!inc) throw new IncidentError(`no incident '${id}' in ${this.path}`);
    return inc;
  }

  async open(input: { severity: Severity; title: string; description?: string; startedAt: Date; actor: string; now: Date }): Promise<Incident> {
    if (input.startedAt.getTime() > input.now.getTime()) throw new IncidentError('the start time is in the future');
    const id = newId(input.startedAt);
    await this.append({
      schema_version: 1, type: 'opened', id, recorded_at: input.now.toISOString(), actor: input.actor,
      severity: input.severity, title: input.title, description: input.description ?? null, started_at: input.startedAt.toISOString(),
    });
    return this.get(id);
  }

  async detect(id: string, input: { at: Date; by?: string; actor: string; now: Date }): Promise<Incident> {
    const inc = await this.get(id);
    if (inc.resolvedAt) throw new IncidentError(`${id} is already resolved`);
    if (inc.detectedAt) throw new IncidentError(`${id} was already detected at ${inc.detectedAt.toISOString()}`);
    if (input.at < inc.startedAt) throw new IncidentError(`detection (${input.at.toISOString()}) cannot be before the start (${inc.startedAt.toISOString()})`);
    await this.append({ schema_version: 1, type: 'detected', id, recorded_at: input.now.toISOString(), actor: input.actor, detected_at: input.at.toISOString(), detected_by: input.by ?? null });
    return this.get(id);
  }

  async mitigate(id: string, input: { at: Date; note?: string; actor: string; now: Date }): Promise<Incident> {
    const inc = await this.get(id);
    if (inc.resolvedAt) throw new IncidentError(`${id} is already resolved`);
    if (!inc.detectedAt) throw new IncidentError(`${id} has no detection time yet: run 'ops incident detect ${id}' first`);
    if (input.at < inc.detectedAt) throw new IncidentError(`mitigation (${input.at.toISOString()}) cannot be before detection (${inc.detectedAt.toISOString()})`);
    await this.append({ schema_version: 1, type: 'mitigated', id, recorded_at: input.now.toISOString(), actor: input.actor, mitigated_at: input.at.toISOString(), note: input.note ?? null });
    return this.get(id);
  }

  async resolve(id: string, input: { at: Date; rootCause?: string; resolution?: string; actor: string; now: Date }): Promise<Incident> {
    const inc = await this.get(id);
    if (inc.resolvedAt) throw new IncidentError(`${id} was already resolved at ${inc.resolvedAt.toISOString()}`);
    if (!inc.detectedAt) throw new IncidentError(`${id} has no detection time: run 'ops incident detect ${id}' first (time to resolve is measured from detection)`);
    const floor = inc.mitigatedAt ?? inc.detectedAt;
    if (input.at < floor) throw new IncidentError(`resolution (${input.at.toISOString()}) cannot be before ${inc.mitigatedAt ? 'mitigation' : 'detection'} (${floor.toISOString()})`);
    await this.append({
      schema_version: 1, type: 'resolved', id, recorded_at: input.now.toISOString(), actor: input.actor,
      resolved_at: input.at.toISOString(), root_cause: input.rootCause ?? null, resolution: input.resolution ?? null,
    });
    return this.get(id);
  }

  async note(id: string, input: { at: Date; text: string; actor: string; now: Date }): Promise<Incident> {
    await this.get(id);
    await this.append({ schema_version: 1, type: 'note', id, recorded_at: input.now.toISOString(), actor: input.actor, time: input.at.toISOString(), text: input.text });
    return this.get(id);
  }

  close(): Promise<void> {
    return this.appender.close();
  }

  private async append(record: IncidentRecord): Promise<void> {
    incidentRecordSchema.parse(record);
    await this.appender.append(record);
  }
}
