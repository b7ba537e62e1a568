/**
 * One re-armable timer per upstream attempt, timing Triton's silence only. Streams re-arm it on
 * every token, so it reuses a single Timeout (refresh()) instead of allocating a timer per token.
 * Between a response arriving and the next wait for Triton it is paused: a client slow to read
 * holds the relay there, and that is backpressure, not Triton going quiet.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private ms = 0;
  private paused = false;
  // A paused timer may still fire once; that firing is ignored (and refresh() revives the timer).
  private readonly fire = (): void => {
    if (!this.paused) this.onExpire();
  };

  constructor(private readonly onExpire: () => void) {}

  /** Starts timing a wait for Triton of at most `ms`. */
  arm(ms: number): void {
    this.paused = false;
    if (this.timer && ms === this.ms) {
      this.timer.refresh();
      return;
    }
    this.clear();
    this.ms = ms;
    this.timer = setTimeout(this.fire, ms);
  }

  /** Triton answered; the wait is over until the next arm(). */
  pause(): void {
    this.paused = true;
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
