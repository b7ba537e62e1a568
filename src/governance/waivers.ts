/**
 * Waivers: spend (or queue delay) that someone accepted for a model until a time. An active
 * waiver does not silence the alert, which is still recorded for the audit trail: it keeps cost
 * alerts away from the finance webhook and names itself in the alert event. Waivers are events
 * (`llm_waiver_recorded`), so the book is rebuilt from the event log at start-up.
 */
import type { AlertSignal, GovernanceEvent } from './events.js';

export interface Waiver {
  id: string;
  model: string;
  signal: AlertSignal;
  reason: string;
  actor: string;
  expiresAt: number;
}

export class WaiverBook {
  private readonly waivers: Waiver[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  seed(events: readonly GovernanceEvent[]): void {
    for (const e of events) {
      if (e.event !== 'llm_waiver_recorded') continue;
      this.add({ id: e.waiver_id, model: e.model, signal: e.signal, reason: e.reason, actor: e.actor, expiresAt: Date.parse(e.expires_at) });
    }
  }

  add(waiver: Waiver): void {
    this.waivers.push(waiver);
  }

  /** The active waiver that expires last, if any. */
  active(model: string, signal: AlertSignal): Waiver | undefined {
    const now = this.now();
    let best: Waiver | undefined;
    for (const w of this.waivers) {
      if (w.model !== model || w.signal !== signal || w.expiresAt <= now) continue;
      if (!best || w.expiresAt > best.expiresAt) best = w;
    }
    return best;
  }

  list(): Waiver[] {
    const now = this.now();
    return this.waivers.filter((w) => w.expiresAt > now);
  }
}
