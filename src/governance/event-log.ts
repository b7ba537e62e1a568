/**
 * The governance event log: a JSONL file of validated events. The file is the record; readers
 * (GET /admin/events, the engine tracker at start-up, `ops postmortem`) read it back, so events
 * survive restarts and events the CLI appends are seen by the gateway too.
 */
import { governanceEventSchema, type EventType, type GovernanceEvent } from './events.js';
import { JsonlAppender, readJsonl, type LineProblem, type TornTail } from './jsonl-file.js';

export interface EventQuery {
  /** The newest N matching events (default all). */
  limit?: number;
  type?: EventType;
  model?: string;
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
}

export interface EventRead {
  /** Oldest first. */
  events: GovernanceEvent[];
  problems: LineProblem[];
  tornTail: TornTail | undefined;
}

/** Reading stops at the last 32 MiB: events are rare, this is years of them. */
const MAX_READ_BYTES = 32 * 1024 * 1024;

export class EventLog {
  private readonly appender: JsonlAppender;

  constructor(readonly path: string) {
    this.appender = new JsonlAppender(path);
  }

  /** Creates the file if needed; reports a torn last line left by a crash (now isolated). */
  open(): Promise<TornTail | undefined> {
    return this.appender.open();
  }

  /** Validates, then appends and fsyncs; rejects on an invalid event or a write error. */
  async append(event: GovernanceEvent): Promise<void> {
    governanceEventSchema.parse(event);
    await this.appender.append(event);
  }

  async read(query: EventQuery = {}): Promise<EventRead> {
    const read = await readJsonl(this.path, (v) => governanceEventSchema.parse(v), { maxBytes: MAX_READ_BYTES });
    const since = query.since === undefined ? undefined : Date.parse(query.since);
    const until = query.until === undefined ? undefined : Date.parse(query.until);
    let events = read.records.filter((e) => {
      if (query.type !== undefined && e.event !== query.type) return false;
      if (query.model !== undefined && (!('model' in e) || e.model !== query.model)) return false;
      const at = Date.parse(e.at);
      if (since !== undefined && at < since) return false;
      if (until !== undefined && at > until) return false;
      return true;
    });
    if (query.limit !== undefined) events = events.slice(Math.max(0, events.length - query.limit));
    return { events, problems: read.problems, tornTail: read.tornTail };
  }

  close(): Promise<void> {
    return this.appender.close();
  }
}
