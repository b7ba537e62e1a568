/**
 * Pull-style reader over one ModelStreamInfer call that carries a single request: turns the
 * call's events into `next()` promises and every way the call can go wrong into one
 * GatewayError, decided once (the first cause wins).
 *
 * Ways it ends: Triton's final response (the caller stops reading), an `error_message`
 * (the caller throws it), a gRPC error status (mapped by status-map), the stream ending
 * without a final flag (`upstream_stream_incomplete`), or the caller's AbortSignal
 * (`client_cancelled`, and the call is cancelled so Triton stops generating).
 */
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { GatewayError } from '../errors.js';
import type { ModelInferRequest, ModelStreamInferResponse } from './generated/grpc_service.js';
import { fromUncancelledCallError } from './status-map.js';
import type { CancelSignal } from '../cancellation.js';

/** After Triton's final response the RPC itself should finish at once; this bounds a server that does not. */
const CLOSE_GRACE_MS = 2_000;

/**
 * Responses held for a caller that is not reading (its client's socket is full). Past this the
 * call is paused: grpc-js then stops reading the HTTP/2 stream, and flow control holds Triton
 * back, instead of the gateway buffering ~1 KB per token of a long generation in its heap.
 */
export const MAX_QUEUED_RESPONSES = 32;
const RESUME_BELOW = MAX_QUEUED_RESPONSES / 2;

export function cancelledError(): GatewayError {
  return new GatewayError('client_cancelled', 'the request was cancelled by the client', { upstreamFault: false });
}

interface Waiter {
  resolve(res: ModelStreamInferResponse): void;
  reject(err: GatewayError): void;
}

export class StreamReader {
  private readonly queue: ModelStreamInferResponse[] = [];
  private failure: GatewayError | undefined;
  private waiter: Waiter | undefined;
  /** The RPC finished (status received); nothing left to cancel. */
  private finished = false;
  private cancelledByUs = false;
  /** The caller is done reading (close() was called). */
  private closed = false;
  private paused = false;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly call: ClientDuplexStream<ModelInferRequest, ModelStreamInferResponse>,
    private readonly signal: CancelSignal | undefined,
  ) {
    call.on('data', this.onData);
    call.on('error', this.onError);
    call.on('end', this.onEnd);
    call.on('status', this.onStatus);
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  next(): Promise<ModelStreamInferResponse> {
    if (this.queue.length > 0) {
      const res = this.queue.shift()!;
      if (this.paused && this.queue.length < RESUME_BELOW) {
        this.paused = false;
        this.call.resume();
      }
      return Promise.resolve(res);
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /**
   * The caller is done reading. `complete`: Triton finished the request (final flag or error
   * message), so the RPC is about to end by itself; otherwise the consumer gave up early and the
   * call is cancelled now, which cancels the generation on Triton.
   */
  close(complete: boolean): void {
    this.closed = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.finished) return;
    if (!complete) {
      this.cancel();
      return;
    }
    this.graceTimer = setTimeout(() => this.cancel(), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  private cancel(): void {
    if (this.finished || this.cancelledByUs) return;
    this.cancelledByUs = true;
    this.call.cancel();
  }

  private fail(err: GatewayError): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w.reject(err);
    }
  }

  private readonly onData = (res: ModelStreamInferResponse): void => {
    if (this.cancelledByUs) return;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w.resolve(res);
    } else if (this.queue.push(res) >= MAX_QUEUED_RESPONSES && !this.paused) {
      this.paused = true;
      this.call.pause();
    }
  };

  private readonly onError = (err: ServiceError): void => {
    if (this.cancelledByUs) return;
    this.fail(fromUncancelledCallError(err));
  };

  private readonly onEnd = (): void => {
    // The normal end after a final response: nobody reads any more, so no error is built.
    if (this.closed || this.failure !== undefined) return;
    // Every message has been delivered; if the caller still wants more, the final flag never came.
    this.fail(new GatewayError('upstream_stream_incomplete', 'Triton ended the stream without a final response', { upstreamFault: true }));
  };

  private readonly onStatus = (): void => {
    this.finished = true;
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
  };

  private readonly onAbort = (): void => {
    this.queue.length = 0;
    this.fail(cancelledError());
    this.cancel();
  };
}
