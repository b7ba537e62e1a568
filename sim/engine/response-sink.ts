/**
 * How the engine hands responses to a transport (gRPC stream, unary gRPC, HTTP generate).
 * The engine decides what Triton would produce; the sink decides how that looks on its wire
 * (e.g. a flag-only FINAL is sent on a gRPC stream only when the request enabled empty finals).
 */
import type { status } from '@grpc/grpc-js';
import type { SimError } from '../protocol/sim-error.js';
import type { OutputTensor } from './output-tensor.js';

export interface ResponseHead {
  id: string;
  modelName: string;
  /** "" until the request resolved to a version. */
  modelVersion: string;
}

export interface ResponseSink {
  /** A data response; `final` is the FINAL flag (triton_final_response). */
  data(head: ResponseHead, outputs: OutputTensor[], final: boolean, malformed?: 'raw-count-mismatch'): void;
  /** A FINAL flag with no response body. */
  flagOnlyFinal(head: ResponseHead): void;
  error(head: ResponseHead, err: SimError): void;
  /** Ends the whole call (fault injection): with a status, or OK. */
  endCall(code: status | 'OK', message: string): void;
  /** Called exactly once when the request is over for the engine. */
  done(): void;
}
