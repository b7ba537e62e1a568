/**
 * A steady trickle of completion requests, one at a time at a fixed pace, for as long as a test
 * phase needs it and never longer than a hard limit. Statuses are kept in order so each phase can
 * look at its own slice.
 */

export interface SteadyTraffic {
  /** Status of every answered request (0 when the request itself failed), oldest first. */
  readonly statuses: number[];
  stop(): Promise<void>;
}

export function driveTraffic(url: string, body: Record<string, unknown>, o: { intervalMs: number; maxMs: number }): SteadyTraffic {
  const statuses: number[] = [];
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
      const wait = o.intervalMs - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    statuses,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
