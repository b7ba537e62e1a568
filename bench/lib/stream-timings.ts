/**
 * Token arrival times of many concurrent streams, as the client sees them: time to first token
 * (from the stream's scheduled start), gaps between consecutive tokens, every arrival time (for
 * the relayed rate over the window when all streams are open) and the number of open streams.
 */

export interface StreamHandle {
  token(at: number): void;
  close(): void;
}

export class StreamTimings {
  readonly ttftMs: number[] = [];
  readonly gapsMs: number[] = [];
  readonly arrivals: number[] = [];
  open = 0;
  peakOpen = 0;
  /** Streams closed so far. */
  closed = 0;
  /** The fewest streams open since markWindow(). */
  private windowMinOpen: number | undefined;

  begin(scheduledAt: number): StreamHandle {
    this.open += 1;
    if (this.open > this.peakOpen) this.peakOpen = this.open;
    let last: number | undefined;
    let closed = false;
    return {
      token: (at) => {
        this.arrivals.push(at);
        if (last === undefined) this.ttftMs.push(at - scheduledAt);
        else this.gapsMs.push(at - last);
        last = at;
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.open -= 1;
        this.closed += 1;
        if (this.windowMinOpen !== undefined && this.open < this.windowMinOpen) this.windowMinOpen = this.open;
      },
    };
  }

  /** Starts tracking the fewest open streams (a measurement window's start). */
  markWindow(): void {
    this.windowMinOpen = this.open;
  }

  /** The fewest streams open since markWindow(): below the target, the window did not have them all. */
  minOpenSinceMark(): number {
    return this.windowMinOpen ?? this.open;
  }

  /** Tokens that arrived in [from, to) (performance.now() times), per second. */
  tokensPerSecondBetween(from: number, to: number): number {
    if (to <= from) return 0;
    let n = 0;
    for (const t of this.arrivals) if (t >= from && t < to) n++;
    return (n / (to - from)) * 1000;
  }
}
