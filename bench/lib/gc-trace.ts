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

/** Sums the `--trace-gc-nvp` lines (one per GC: `pause=… gc=s … allocated=… promoted=…`) in `text`. */
export function sumGcTrace(text: string): GcSums {
  const sums: GcSums = { allocated: 0, promoted: 0, scavenges: 0, scavengePauseMs: 0, maxPauseMs: 0, markCompacts: 0 };
  for (const line of text.split('\n')) {
    const kind = / gc=(\w+)/.exec(line)?.[1];
    if (kind === undefined) continue;
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
  return sums;
}
