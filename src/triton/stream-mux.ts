/**
 * Long-lived ModelStreamInfer streams shared by many short requests (DESIGN §9, reference §3):
 * each request is written to one of `size` open streams and its responses are picked out by the
 * request `id` that Triton echoes in every response. Opening a stream per request costs grpc-js
 * a call stack, an HTTP/2 stream and their events; a message on an open stream costs far less.
 *
 * The price, and why this is a per-model option used only for non-streamed requests:
 * - There is no per-request cancel on a stream (reference §3.8): a request whose client left or
 *   whose deadline passed is only forgotten here; Triton still finishes generating it.
 * - gRPC metadata belongs to the stream, so no per-request `traceparent` reaches Triton.
 * - Streams are opened without `triton_grpc_error` (the first error would close the stream
 *   and fail every request on it); errors arrive as `error_message` with the request's id.
 * When a stream fails or ends, every request still on it fails with a retryable error and the
 * next request opens a new stream.
 */
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { GatewayError } from '../errors.js';
import { InFlightMap } from '../in-flight-table.js';
import type { ModelInferRequest, ModelStreamInferResponse } from './generated/grpc_service.js';
import { cancelledError } from './stream-reader.js';
import { fromUncancelledCallError } from './status-map.js';
import type { CancelSignal } from '../cancellation.js';

type Call = ClientDuplexStream<ModelInferRequest, ModelStreamInferResponse>;

/** The responses of one request on a shared stream, read with next(). */
export class MuxedRequest {
  private readonly queue: ModelStreamInferResponse[] = [];
  private waiter: { resolve(res: ModelStreamInferResponse): void; reject(err: GatewayError): void } | undefined;
  private failure: GatewayError | undefined;

  constructor(
    readonly id: string,
    private readonly forget: (req: MuxedRequest) => void,
  ) {}

  next(): Promise<ModelStreamInferResponse> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift()!);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** The caller is done reading (final response, error, or it gave up). */
  release(): void {
    this.forget(this);
  }

  push(res: ModelStreamInferResponse): void {
    const w = this.waiter;
    if (w === undefined) {
      this.queue.push(res);
      return;
    }
    this.waiter = undefined;
    w.resolve(res);
  }

  fail(err: GatewayError): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    const w = this.waiter;
    if (w === undefined) return;
    this.waiter = undefined;
    w.reject(err);
  }
}

interface Slot {
  call: Call;
  /** Not a Map: one entry per request comes and goes (src/in-flight-table.ts). */
  pending: InFlightMap<string, MuxedRequest>;
  dead: boolean;
}

function isTerminal(res: ModelStreamInferResponse): boolean {
  return res.errorMessage !== '' || res.inferResponse?.parameters.triton_final_response?.boolParam === true;
}

export class StreamMux {
  private readonly slots: Array<Slot | undefined>;
  private rotation = 0;
  private closed = false;

  /** `open(i)` opens the i-th stream (the client spreads them over its channels). */
  constructor(
    private readonly open: (index: number) => Call,
    size: number,
  ) {
    this.slots = new Array<Slot | undefined>(Math.max(1, size)).fill(undefined);
  }

  /**
   * Writes `request` (its `id` must be unique among requests in flight) to the next stream.
   * Aborting `signal` fails the request with client_cancelled; Triton is not told (see above).
   */
  submit(request: ModelInferRequest, signal?: CancelSignal): MuxedRequest {
    if (this.closed) throw new GatewayError('upstream_unavailable', 'the Triton client is closed', { upstreamFault: false, retryAfterSeconds: 1 });
    if (signal?.aborted === true) throw cancelledError();
    const index = this.rotation;
    this.rotation = (this.rotation + 1) % this.slots.length;
    const slot = this.slots[index] ?? this.openSlot(index);
    const onAbort = (): void => {
      req.fail(cancelledError());
      req.release();
    };
    const req = new MuxedRequest(request.id, (done) => {
      if (slot.pending.get(done.id) === done) slot.pending.delete(done.id);
      signal?.removeEventListener('abort', onAbort);
    });
    slot.pending.set(request.id, req);
    signal?.addEventListener('abort', onAbort, { once: true });
    slot.call.write(request);
    return req;
  }

  /** Half-closes every stream; Triton ends each once its requests are done (reference §3.7). */
  close(): void {
    this.closed = true;
    for (const slot of this.slots) slot?.call.end();
  }

  private openSlot(index: number): Slot {
    const call = this.open(index);
    const slot: Slot = { call, pending: new InFlightMap(), dead: false };
    this.slots[index] = slot;
    const retire = (err: GatewayError): void => {
      if (slot.dead) return;
      slot.dead = true;
      if (this.slots[index] === slot) this.slots[index] = undefined;
      for (const req of slot.pending.values()) req.fail(err);
      slot.pending.clear();
    };
    call.on('data', (res: ModelStreamInferResponse) => {
      const req = slot.pending.get(res.inferResponse?.id ?? '');
      // A request that was given up (client gone, deadline) still gets its answers: drop them.
      if (req === undefined) return;
      if (isTerminal(res)) slot.pending.delete(req.id);
      req.push(res);
    });
    // The mux never cancels a shared stream (close() only half-closes it), so any error is Triton's.
    call.on('error', (err: ServiceError) => retire(fromUncancelledCallError(err)));
    call.on('end', () =>
      retire(new GatewayError('upstream_unavailable', 'Triton ended a shared stream with requests still on it', { upstreamFault: true, retryAfterSeconds: 1 })),
    );
    return slot;
  }
}
