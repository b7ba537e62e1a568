/**
 * Records a governance event: stamps the envelope, validates it against its schema, appends it
 * to the event log (fsync), writes it to the pino log (msg = the event name, so a log search for
 * `llm_rollback_completed` finds it) and queues it for the webhook. Callers on a request path
 * never await the webhook; awaiting record() waits for the fsync only.
 *
 * record() is for events that report what happened (a warm-up, an alert): a failed append is
 * logged and the event still goes out. recordOrFail() is for events that are an operator's
 * action (a waiver, a backup): the caller must be able to say it was not recorded.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { EventLog } from './event-log.js';
import { SCHEMA_VERSION, governanceEventSchema, type EventInput, type EventOf, type GovernanceEvent } from './events.js';
import type { WebhookNotifier } from './webhook.js';

/** The part of a pino logger governance uses (the CLI passes a stderr-only stand-in). */
export interface RecorderLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The event was not appended to the event log; it went to the pino log only. */
export class EventNotRecordedError extends Error {
  override name = 'EventNotRecordedError';

  constructor(readonly event: GovernanceEvent, readonly path: string, cause: unknown) {
    super(`${event.event} was not written to the event log: ${(cause as Error).message}`, { cause });
  }
}

export class GovernanceRecorder {
  readonly instance: string;
  private readonly listeners: Array<(event: GovernanceEvent) => void> = [];

  constructor(
    readonly log: EventLog,
    private readonly logger: RecorderLog,
    private readonly webhook?: WebhookNotifier,
    instance?: string,
  ) {
    this.instance = instance ?? `${hostname()}:${process.pid}`;
  }

  /** Opens the log; a torn last line from a crash is reported here (and isolated, see jsonl-file.ts). */
  async open(): Promise<void> {
    const torn = await this.log.open();
    if (torn) {
      this.logger.warn({ path: this.log.path, torn_bytes: torn.bytes, excerpt: torn.excerpt }, 'governance event log ended with a torn line (a crash mid-write); it is skipped and new events start on a new line');
    }
  }

  onRecorded(listener: (event: GovernanceEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Throws only for an event that does not match its schema (a bug). A failed append is logged
   * at error level with the whole event, so the pino log still carries it.
   */
  async record<I extends EventInput>(input: I): Promise<EventOf<I['event']>> {
    const event = this.stamp(input);
    await this.append(event).catch(() => undefined);
    this.announce(event);
    return event;
  }

  /**
   * Like record(), but a failed append rejects with EventNotRecordedError (after the same error
   * log line) and the event is neither sent to the webhook nor announced: it did not happen.
   */
  async recordOrFail<I extends EventInput>(input: I): Promise<EventOf<I['event']>> {
    const event = this.stamp(input);
    await this.append(event);
    this.announce(event);
    return event;
  }

  private stamp<I extends EventInput>(input: I): EventOf<I['event']> {
    return governanceEventSchema.parse({
      schema_version: SCHEMA_VERSION,
      id: randomUUID(),
      at: new Date().toISOString(),
      instance: this.instance,
      ...input,
    }) as EventOf<I['event']>;
  }

  private async append(event: GovernanceEvent): Promise<void> {
    try {
      await this.log.append(event);
    } catch (err) {
      this.logger.error({ ...event, governance: true, err: (err as Error).message, path: this.log.path }, `${event.event} (not written to the event log)`);
      throw new EventNotRecordedError(event, this.log.path, err);
    }
    this.logger.info({ ...event, governance: true }, event.event);
  }

  private announce(event: GovernanceEvent): void {
    this.webhook?.send(event, event.id);
    for (const l of this.listeners) l(event);
  }

  async close(): Promise<void> {
    await this.webhook?.close();
    await this.log.close();
  }
}
