/**
 * ModelStreamInfer (shared/triton-protocol.md §3): many requests per stream, responses carry
 * the request id and triton_final_response; errors are error_message responses that leave the
 * stream open, unless the stream was opened with `triton_grpc_error: true` metadata, in which case
 * the first backend error closes it with a real status. Cancelling the call cancels every request
 * on it; the stream ends OK once the client half-closed and nothing is pending. Decoupled models'
 * responses go out as they come and interleave; a non-decoupled model's are written in request
 * order (§3 item 2), so a quick request waits on the stream behind a slower one sent before it.
 */
import type { ServerDuplexStream, status } from '@grpc/grpc-js';
import type { ModelInferRequest, ModelStreamInferResponse } from '../../src/triton/generated/grpc_service.js';
import type { SimulatorCore } from '../engine/simulator-core.js';
import type { ResponseHead, ResponseSink } from '../engine/response-sink.js';
import type { OutputTensor } from '../engine/output-tensor.js';
import type { Run } from '../engine/run.js';
import type { SimError } from '../protocol/sim-error.js';
import { wireFromGrpc } from '../protocol/infer-request.js';
import { FINAL_FALSE, FINAL_TRUE, errorInferResponse, inferResponse } from './infer-response.js';

type Call = ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>;

interface OrderedSlot {
  /** Responses written while a request before this one was still running. */
  held: ModelStreamInferResponse[];
  done: boolean;
}

export function handleStreamInfer(core: SimulatorCore, call: Call): void {
  const grpcErrorMode = call.metadata.get('triton_grpc_error')[0] === 'true';
  const runs = new Set<Run>();
  let pending = 0;
  let halfClosed = false;
  let closed = false;
  core.openStreams++;

  const close = (finish: () => void) => {
    if (closed) return;
    closed = true;
    core.openStreams--;
    finish();
    for (const run of [...runs]) run.cancel();
  };
  const maybeEnd = () => {
    if (halfClosed && pending === 0) close(() => call.end());
  };
  const write = (msg: ModelStreamInferResponse) => {
    if (!closed) call.write(msg);
  };
  const endWithStatus = (code: status, details: string) => close(() => call.emit('error', { code, details }));
  /** The stream's non-decoupled requests in arrival order, each holding its responses until those before it are done. */
  const inOrder: OrderedSlot[] = [];
  const flushInOrder = () => {
    // The head writes as it goes; a done head lets the next one out, with what it held.
    while (inOrder.length > 0 && inOrder[0]!.done) {
      inOrder.shift();
      const next = inOrder[0];
      if (next) for (const msg of next.held.splice(0)) write(msg);
    }
  };

  call.on('data', (req: ModelInferRequest) => {
    if (closed) return;
    pending++;
    const emptyFinal = req.parameters.triton_enable_empty_final_response?.boolParam === true;
    let run: Run | undefined;
    let finished = false;
    const slot: OrderedSlot | undefined = core.decoupled(req.modelName, req.modelVersion) === false ? { held: [], done: false } : undefined;
    if (slot) inOrder.push(slot);
    const send = (msg: ModelStreamInferResponse) => {
      if (slot && inOrder[0] !== slot) slot.held.push(msg);
      else write(msg);
    };
    const sink: ResponseSink = {
      data(head: ResponseHead, outputs: OutputTensor[], final: boolean, malformed?: 'raw-count-mismatch') {
        send({ errorMessage: '', inferResponse: inferResponse(head, outputs, final ? FINAL_TRUE : FINAL_FALSE, malformed) });
      },
      flagOnlyFinal(head: ResponseHead) {
        if (emptyFinal) send({ errorMessage: '', inferResponse: inferResponse(head, [], FINAL_TRUE) });
      },
      error(head: ResponseHead, err: SimError) {
        if (grpcErrorMode && err.origin === 'backend') return endWithStatus(err.code, err.message);
        send({ errorMessage: err.message, inferResponse: errorInferResponse(head, err.origin === 'backend', err.final) });
      },
      endCall(code: status | 'OK', message: string) {
        if (code === 'OK') close(() => call.end());
        else endWithStatus(code, message);
      },
      done() {
        if (finished) return;
        finished = true;
        if (slot) {
          slot.done = true;
          flushInOrder();
        }
        pending--;
        if (run !== undefined) runs.delete(run);
        if (!closed) maybeEnd();
      },
    };
    run = core.submit(wireFromGrpc(req), sink, { transport: 'grpc-stream', metadata: call.metadata, unary: false });
    if (run !== undefined && !finished) runs.add(run);
  });
  call.on('end', () => {
    halfClosed = true;
    if (!closed) maybeEnd();
  });
  call.on('cancelled', () => close(() => undefined));
  call.on('error', () => close(() => undefined));
}
