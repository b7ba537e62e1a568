/**
 * Admission per model: up to `concurrency` requests execute at once; the rest wait in FIFO
 * order. A request first sits out the fixed queue delay, then waits for a slot. Both phases count
 * as queued (nv_inference_pending_request_count) and against max_queue_size.
 */
export interface SchedulerJob {
  /** Called once when the job gets a slot. */
  start(): void;
}

export class Scheduler {
  private active = 0;
  private delaying = 0;
  private readonly waiting: SchedulerJob[] = [];
  private readonly timers = new Map<SchedulerJob, NodeJS.Timeout>();

  constructor(
    private readonly concurrency: number,
    private readonly maxQueueSize: number,
    private readonly queueDelayMs: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.delaying + this.waiting.length;
  }

  /** false = the queue is full (the caller answers "Exceeds maximum queue size"). */
  submit(job: SchedulerJob): boolean {
    if (this.queueDelayMs <= 0 && this.waiting.length === 0 && this.active < this.concurrency) {
      this.active++;
      job.start();
      return true;
    }
    if (this.maxQueueSize > 0 && this.queued >= this.maxQueueSize) return false;
    if (this.queueDelayMs > 0) {
      this.delaying++;
      this.timers.set(
        job,
        setTimeout(() => {
          this.timers.delete(job);
          this.delaying--;
          this.enqueue(job);
        }, this.queueDelayMs),
      );
    } else {
      this.enqueue(job);
    }
    return true;
  }

  private enqueue(job: SchedulerJob): void {
    this.waiting.push(job);
    this.drain();
  }

  /** A running job finished or was cancelled. */
  release(): void {
    this.active--;
    this.drain();
  }

  /** A queued job was cancelled before it started. */
  withdraw(job: SchedulerJob): void {
    const timer = this.timers.get(job);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(job);
      this.delaying--;
      return;
    }
    const i = this.waiting.indexOf(job);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  private draining = false;

  /** Re-entrancy guard: a job that finishes inside start() releases into this same loop, not a deeper one. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.active < this.concurrency && this.waiting.length > 0) {
        const job = this.waiting.shift()!;
        this.active++;
        job.start();
      }
    } finally {
      this.draining = false;
    }
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.length = 0;
    this.delaying = 0;
  }
}
