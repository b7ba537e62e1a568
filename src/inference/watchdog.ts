/**
 * One re-armable timer per upstream attempt. Streams re-arm it on every token, so it reuses a
 * single Timeout (refresh()) instead of allocating a timer per token.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private ms = 0;

  constructor(private readonly onExpire: () => void) {}

  arm(ms: number): void {
    if (this.timer && ms === this.ms) {
      this.timer.refresh();
      return;
    }
    this.clear();
    this.ms = ms;
    this.timer = setTimeout(this.onExpire, ms);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
