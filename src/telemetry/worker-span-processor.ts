/**
 * The span processor on the event loop's thread: it copies each finished span into a plain
 * batch (span-batch.ts) and posts the batch to a worker thread (span-export-worker.ts), where
 * the SDK's BatchSpanProcessor and the exporter serialise and send it.
 *
 * Why not the BatchSpanProcessor here: serialising and sending a batch ran on the event loop,
 * between requests, and the spans stayed alive until their export had been answered, so they
 * outlived young-generation GCs. With every request traced at 500 req/s that doubled the GC
 * pauses and the overhead p99 (bench/HISTORY.md, span export in a worker thread). Here a span is copied once and dropped.
 *
 * Bounded like the SDK's processor: spans posted but not yet taken by the worker count against
 * `maxQueueSize` and later spans are dropped (counted in `dropped`, said once on stderr) until it
 * catches up. If the worker dies, spans are dropped from then on and the gateway keeps serving.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanBatchBuilder } from './span-batch.js';
import type { FromWorker, ToWorker } from './span-export-messages.js';
import { EXPORT_RECOVERED_TEXT, exportFailingText } from './export-failure-reporter.js';

export interface WorkerSpanProcessorOptions {
  /** The worker's process.env: OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*, OTEL_BSP_*. */
  env: Record<string, string | undefined>;
  /** Spans per message to the worker. */
  batchSize?: number;
  /** How long a partial batch may wait on this side before it is posted. */
  flushDelayMs?: number;
  /** Spans posted to the worker and not yet taken by it, beyond which new spans are dropped. */
  maxQueueSize?: number;
  /** How long start-up, forceFlush() and shutdown() wait for the worker. */
  timeoutMs?: number;
  /** Another worker script (tests). */
  workerUrl?: URL;
  /** Where the messages about a failed or overrun worker go (each said once). */
  warn?: (message: string) => void;
}

const workerFile = new URL(import.meta.url.endsWith('.ts') ? './span-export-worker.ts' : './span-export-worker.js', import.meta.url);

/**
 * Built, the worker is a .js file. Under tsx (the tests) it is a .ts file, which a
 * worker on Node 20 cannot load by itself: a small script registers tsx in the worker first.
 */
function startWorker(url: URL | undefined, options: WorkerOptions): Worker {
  if (url || !workerFile.pathname.endsWith('.ts')) return new Worker(url ?? workerFile, options);
  const script = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(workerFile.href)}); })`;
  return new Worker(script, { ...options, eval: true });
}

export class WorkerSpanProcessor implements SpanProcessor {
  /** Resolves once the worker's exporter exists; rejects with the reason it could not be made. */
  readonly ready: Promise<void>;
  /** Spans dropped: the queue to the worker was full, the worker had failed, or the processor was shut down. */
  dropped = 0;
  private readonly worker: Worker;
  private readonly builder = new SpanBatchBuilder();
  private readonly batchSize: number;
  private readonly flushDelayMs: number;
  private readonly maxQueueSize: number;
  private readonly timeoutMs: number;
  private readonly warn: (message: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private resourceWait: Promise<void> | undefined;
  /** Spans posted and not yet taken by the worker. */
  private queued = 0;
  private started = false;
  private warnedFull = false;
  private failed = false;
  private closed = false;
  private nextId = 1;
  private readonly replies = new Map<number, (error?: string) => void>();

  constructor(options: WorkerSpanProcessorOptions) {
    this.batchSize = options.batchSize ?? 64;
    this.flushDelayMs = options.flushDelayMs ?? 100;
    this.maxQueueSize = options.maxQueueSize ?? 2048;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.warn = options.warn ?? ((message) => process.stderr.write(`triton-gateway: ${message}\n`));
    this.worker = startWorker(options.workerUrl, {
      env: { ...options.env },
      // Not the process's flags: its `--import` of the tracing preload would start an SDK in the worker.
      execArgv: [],
      // The worker's heap holds at most a queue of spans and an export in progress.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
    });
    // A worker must never keep the gateway's process alive.
    this.worker.unref();
    let started: (() => void) | undefined;
    let notStarted: ((err: Error) => void) | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      notStarted = reject;
    });
    const startTimer = setTimeout(() => notStarted?.(new Error(`span export worker did not start within ${this.timeoutMs} ms`)), this.timeoutMs).unref();
    this.worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          clearTimeout(startTimer);
          this.started = true;
          started?.();
          return;
        case 'failed':
          clearTimeout(startTimer);
          notStarted?.(new Error(message.message));
          this.fail(undefined);
          return;
        case 'taken':
          this.queued -= message.spans;
          return;
        case 'exportFailed':
          this.warn(exportFailingText(message.message));
          return;
        case 'exportRecovered':
          this.warn(EXPORT_RECOVERED_TEXT);
          return;
        case 'done':
          this.replies.get(message.id)?.(message.error);
          this.replies.delete(message.id);
          return;
      }
    });
    this.worker.on('error', (err) => {
      clearTimeout(startTimer);
      notStarted?.(err);
      this.fail(`span export worker failed (${err.message}); spans are dropped from now on`);
    });
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(`span export worker exited (code ${code}); spans are dropped from now on`);
    });
    // startTracing() awaits `ready` and reports a failed start itself; nobody else must have to.
    this.ready.catch(() => undefined);
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.failed || this.closed) {
      this.dropped += 1;
      return;
    }
    if (this.queued + this.builder.size >= this.maxQueueSize) {
      this.dropped += 1;
      if (!this.warnedFull) {
        this.warnedFull = true;
        this.warn(`span export worker is ${this.maxQueueSize} spans behind; spans are dropped until it catches up (said once)`);
      }
      return;
    }
    this.builder.add(span);
    if (this.builder.size >= this.batchSize) void this.post();
    else this.timer ??= setTimeout(() => void this.post(), this.flushDelayMs).unref();
  }

  async forceFlush(): Promise<void> {
    await this.post();
    await this.request('flush');
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.post();
      await this.request('shutdown');
    } finally {
      await this.worker.terminate();
    }
  }

  /** Posts the spans collected so far; resolves once they are posted. */
  private post(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.resourceWait) return this.resourceWait;
    if (this.builder.size === 0 || this.failed) return Promise.resolve();
    // The SDK detects some resource attributes asynchronously (the host's id); a batch carries
    // them all, so the first spans wait for them as the SDK's own processor makes them wait.
    const pending = this.builder.pendingResources();
    if (pending.length > 0) {
      this.resourceWait = Promise.allSettled(pending.map((resource) => resource.waitForAsyncAttributes?.())).then(() => {
        this.resourceWait = undefined;
        return this.post();
      });
      return this.resourceWait;
    }
    const batch = this.builder.take();
    this.queued += batch.count;
    this.worker.postMessage({ type: 'spans', batch } satisfies ToWorker);
    return Promise.resolve();
  }

  /** Asks the worker to flush or shut down; resolves when it has, or after `timeoutMs`. */
  private async request(type: 'flush' | 'shutdown'): Promise<void> {
    await this.ready.catch(() => undefined);
    if (this.failed) return;
    const id = this.nextId++;
    const error = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        resolve(`span export worker did not ${type} within ${this.timeoutMs} ms`);
      }, this.timeoutMs).unref();
      this.replies.set(id, (err) => {
        clearTimeout(timer);
        resolve(err);
      });
      this.worker.postMessage({ type, id } satisfies ToWorker);
    });
    if (error !== undefined) throw new Error(error);
  }

  private fail(message: string | undefined): void {
    if (this.failed) return;
    this.failed = true;
    this.dropped += this.builder.size + Math.max(0, this.queued);
    this.builder.take();
    this.queued = 0;
    for (const reply of this.replies.values()) reply('span export worker is gone');
    this.replies.clear();
    // A worker that never started is reported once, by whoever awaits `ready`.
    if (message !== undefined && this.started && !this.closed) this.warn(message);
  }
}
