/**
 * Posts JSON payloads to one webhook, in order, with retries and exponential backoff (equal
 * jitter). `send()` only queues: nothing on a request path ever waits for a webhook. The queue is
 * bounded; when the receiver is down long enough to fill it the oldest payloads are dropped and
 * counted (the event log still has every event).
 *
 * Retried: network errors, timeouts, 408, 429 and 5xx. Any other answer is final, and so is a
 * request fetch cannot even build (a malformed URL): retrying it cannot help.
 *
 * Credentials in the URL (`https://user:pass@host/...`) are sent as `Authorization: Basic`, as
 * curl does: Node's fetch refuses such a URL outright. Logs show the URL's origin only, and any
 * URL inside an error message is cut to its origin too, so neither userinfo nor a token in the
 * path or query reaches a log.
 */
import type { Logger } from 'pino';
import { describeFetchError, splitCredentials, urlOrigin } from '../secret-urls.js';

export interface WebhookOptions {
  url: string;
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff; doubles per retry up to MAX_DELAY_MS. */
  baseDelayMs: number;
  timeoutMs: number;
  /** A label for logs (e.g. "governance", "finance"). */
  name: string;
  log?: Pick<Logger, 'info' | 'warn'>;
}

/** The longest wait between two attempts. */
const MAX_DELAY_MS = 30_000;
/** Payloads held while the receiver is down; beyond it the oldest are dropped (the event log keeps every event). */
const MAX_QUEUE = 1_000;

export interface WebhookStats {
  delivered: number;
  failed: number;
  dropped: number;
  attempts: number;
  queued: number;
}

interface Item {
  payload: unknown;
  key: string | undefined;
}

export class WebhookNotifier {
  private readonly queue: Item[] = [];
  private running = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private wake: (() => void) | undefined;
  private readonly stats = { delivered: 0, failed: 0, dropped: 0, attempts: 0 };

  /** The URL fetched: the configured one without its userinfo. */
  private readonly target: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: WebhookOptions) {
    const { url, authorization } = splitCredentials(options.url);
    this.target = url;
    this.headers = authorization ? { authorization } : {};
  }

  get url(): string {
    return this.target;
  }

  snapshot(): WebhookStats {
    return { ...this.stats, queued: this.queue.length + (this.running ? 1 : 0) };
  }

  /** Queues one payload; `key` goes out as Idempotency-Key so a retried delivery can be deduplicated. */
  send(payload: unknown, key?: string): void {
    if (this.closed) return;
    if (this.queue.length >= MAX_QUEUE) {
      this.queue.shift();
      this.stats.dropped += 1;
      this.options.log?.warn({ webhook: this.options.name, dropped: this.stats.dropped }, 'webhook queue full; dropped the oldest payload');
    }
    this.queue.push({ payload, key });
    if (!this.running) void this.drain();
  }

  /** Resolves when everything queued so far was delivered or given up on. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Waits up to `graceMs` for the queue to drain, then abandons what is left. */
  async close(graceMs = 2_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.closed = true;
    const left = this.queue.length;
    this.queue.length = 0;
    this.wake?.();
    if (left > 0) this.options.log?.warn({ webhook: this.options.name, abandoned: left }, 'webhook closed with payloads undelivered');
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue.shift()!;
        await this.deliver(item);
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async deliver(item: Item): Promise<void> {
    const { retries, name } = this.options;
    let lastError = '';
    for (let attempt = 0; attempt <= retries && !this.closed; attempt++) {
      if (attempt > 0) await this.sleep(this.backoff(attempt));
      if (this.closed) break;
      this.stats.attempts += 1;
      const outcome = await this.attempt(item);
      if (outcome.ok) {
        this.stats.delivered += 1;
        if (attempt > 0) this.options.log?.info({ webhook: name, attempts: attempt + 1 }, 'webhook delivered after retries');
        return;
      }
      lastError = outcome.error;
      if (!outcome.retryable) break;
    }
    this.stats.failed += 1;
    this.options.log?.warn({ webhook: name, url: urlOrigin(this.target), err: lastError }, 'webhook delivery failed');
  }

  private async attempt(item: Item): Promise<{ ok: true } | { ok: false; retryable: boolean; error: string }> {
    try {
      const res = await fetch(this.target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'triton-gateway-governance',
          ...(item.key ? { 'idempotency-key': item.key } : {}),
          ...this.headers,
        },
        body: JSON.stringify(item.payload),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      // Drain the body so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true };
      const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
      return { ok: false, retryable, error: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, retryable: isRetryable(err), error: describeFetchError(err) };
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(MAX_DELAY_MS, this.options.baseDelayMs * 2 ** (attempt - 1));
    // Equal jitter (half fixed, half random): replicas that lost the receiver together do not retry together.
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/**
 * fetch reports every network failure as TypeError "fetch failed" (the reason in `cause`); any
 * other TypeError means the request could not be built, which no retry changes. Timeouts and
 * aborts are DOMExceptions and are retried.
 */
function isRetryable(err: unknown): boolean {
  return !(err instanceof TypeError && err.message !== 'fetch failed');
}
