/**
 * A steady trickle of completion requests, one at a time at a fixed pace, for as long as a test
 * phase needs it and never longer than a hard limit. Statuses are kept in order with the time
 * each request was sent, so a phase can look at the requests sent after it began (one already in
 * flight when a fault is injected may still succeed).
 */

export interface SteadyTraffic {
  /** Status of every answered request (0 when the request itself failed), oldest first. */
  readonly statuses: number[];
  /** Statuses of the requests sent at or after `since`. */
  sentSince(since: number): number[];
  stop(): Promise<void>;
}

export function driveTraffic(url: string, body: Record<string, unknown>, o: { intervalMs: number; maxMs: number }): SteadyTraffic {
  const statuses: number[] = [];
  const sentAt: number[] = [];
  let stopped = false;
  const until = Date.now() + o.maxMs;
  const loop = (async () => {
    while (!stopped && Date.now() < until) {
      const started = Date.now();
      const res = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5_000),
      }).catch(() => undefined);
      if (res) await res.arrayBuffer().catch(() => undefined);
      statuses.push(res?.status ?? 0);
      sentAt.push(started);
      const wait = o.intervalMs - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    statuses,
    sentSince: (since) => statuses.filter((_, i) => sentAt[i]! >= since),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
