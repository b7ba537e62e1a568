/**
 * The last failed requests, for /debug/diagnostics. Only the request id, model, code and the
 * gateway's own message are kept: never prompt text or headers.
 */
export interface RecentError {
  at: string;
  requestId: string;
  /** The configured model, or null when the request never reached one (unknown model, bad input). */
  model: string | null;
  code: string;
  status: number;
}

export class RecentErrors {
  private readonly items: RecentError[] = [];

  constructor(private readonly capacity = 20) {}

  add(error: RecentError): void {
    this.items.push(error);
    if (this.items.length > this.capacity) this.items.shift();
  }

  list(): RecentError[] {
    return [...this.items].reverse();
  }
}
