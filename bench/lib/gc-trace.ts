/**
 * Reads V8's `--trace-gc-nvp` output (one line per collection, `name=value` pairs) from a
 * gateway's log: bench/allocation.ts sums it over a measured phase.
 */
export interface GcSums {
  allocated: number;
  promoted: number;
  scavenges: number;
  scavengePauseMs: number;
  maxPauseMs: number;
  markCompacts: number;
}

/**
 * Sums the `--trace-gc-nvp` lines (one per GC: `pause=… gc=s … allocated=… promoted=…`) in
 * `text` of one isolate: the one that allocated the most, the main thread's. Each line starts
 * with `[pid:isolate]`, and the gateway's span export worker is an isolate of its own, whose
 * small, frequent scavenges must not be mixed into the event loop's.
 */
export function sumGcTrace(text: string): GcSums {
  let busiest: GcSums | undefined;
  for (const sums of sumGcTraceByIsolate(text).values()) {
    if (!busiest || sums.allocated > busiest.allocated) busiest = sums;
  }
  return busiest ?? emptySums();
}

/** The sums per isolate, keyed by the isolate's address, in order of first appearance. */
export function sumGcTraceByIsolate(text: string): Map<string, GcSums> {
  const byIsolate = new Map<string, GcSums>();
  for (const line of text.split('\n')) {
    const kind = / gc=(\w+)/.exec(line)?.[1];
    if (kind === undefined) continue;
    const isolate = /^\[\d+:(0x[0-9a-f]+)\]/.exec(line)?.[1] ?? '';
    let sums = byIsolate.get(isolate);
    if (!sums) byIsolate.set(isolate, (sums = emptySums()));
    const field = (name: string): number => Number(new RegExp(`(?:^| )${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
    const pause = field('pause');
    sums.allocated += field('allocated');
    sums.maxPauseMs = Math.max(sums.maxPauseMs, pause);
    if (kind === 's') {
      sums.scavenges += 1;
      sums.scavengePauseMs += pause;
      sums.promoted += field('promoted');
    } else {
      sums.markCompacts += 1;
    }
  }
  return byIsolate;
}

function emptySums(): GcSums {
  return { allocated: 0, promoted: 0, scavenges: 0, scavengePauseMs: 0, maxPauseMs: 0, markCompacts: 0 };
}
