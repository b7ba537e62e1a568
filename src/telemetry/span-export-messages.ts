/** What the event loop and the span export worker say to each other. */
import type { SpanBatch } from './span-batch.js';

export type ToWorker =
  | { type: 'spans'; batch: SpanBatch }
  | { type: 'flush'; id: number }
  | { type: 'shutdown'; id: number };

export type FromWorker =
  /** The exporter exists; spans can come. */
  | { type: 'ready' }
  /** The exporter could not be made; the worker exits. */
  | { type: 'failed'; message: string }
  /** A batch was handed to the worker's BatchSpanProcessor: its spans no longer count against the queue. */
  | { type: 'taken'; spans: number }
  /** An export failed after the last one that succeeded (or the first): its spans are lost. */
  | { type: 'exportFailed'; message: string }
  /** An export succeeded after failures. */
  | { type: 'exportRecovered' }
  | { type: 'done'; id: number; error?: string };
