/**
 * An error the simulator answers with, carrying what each transport needs: the gRPC status,
 * where Triton would have raised it (frontend/core synchronously, or a backend through the
 * response path) and the failure reason label of nv_inference_request_failure.
 */
import { status } from '@grpc/grpc-js';

/** frontend: found before the model runs, sent without triton_final_response. backend: sent through the response path. */
export type ErrorOrigin = 'frontend' | 'backend';
export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

export class SimError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly origin: ErrorOrigin = 'frontend',
    readonly reason: FailureReason = 'OTHER',
    /** Backend errors only: whether the error response carried the FINAL flag. */
    readonly final = true,
  ) {
    super(message);
    this.name = 'SimError';
  }
}

/** Core's request-scoped message prefix. */
export function requestPrefix(id: string): string {
  return `[request id: ${id === '' ? '<id_unknown>' : id}] `;
}

/** gRPC status from its name (UNAVAILABLE, ...), or undefined for an unknown name. */
export function statusFromName(name: string): status | undefined {
  const value = (status as unknown as Record<string, number>)[name.toUpperCase()];
  return typeof value === 'number' ? value : undefined;
}

export function statusName(code: status): string {
  return status[code] ?? String(code);
}

/** Triton's HTTP mapping (docs/protocol/README.md): everything not listed is 400. */
export function httpStatusFor(code: status): number {
  switch (code) {
    case status.INTERNAL: return 500;
    case status.NOT_FOUND: return 404;
    case status.UNAVAILABLE: return 503;
    case status.UNIMPLEMENTED: return 501;
    default: return 400;
  }
}
