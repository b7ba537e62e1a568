/**
 * The table of gateway errors: every failure the gateway can answer with has one row here,
 * with its HTTP status, its OpenAI error `type`, and whether the inference layer may retry it
 * (or fail over to a fallback) before the first byte reached the client.
 *
 * Only the error handler turns a GatewayError into a response; everything else throws.
 */
import type { CancelSignal } from './cancellation.js';

export const errorTable = {
  invalid_request: { status: 400, type: 'invalid_request_error', retryable: false },
  unsupported_parameter: { status: 400, type: 'invalid_request_error', retryable: false },
  context_length_exceeded: { status: 400, type: 'invalid_request_error', retryable: false },
  // OpenAI's own type for a refused key (the 401 status is what the SDKs read).
  invalid_api_key: { status: 401, type: 'invalid_request_error', retryable: false },
  model_not_found: { status: 404, type: 'invalid_request_error', retryable: false },
  not_found: { status: 404, type: 'invalid_request_error', retryable: false },
  method_not_allowed: { status: 405, type: 'invalid_request_error', retryable: false },
  request_timeout: { status: 408, type: 'invalid_request_error', retryable: false },
  payload_too_large: { status: 413, type: 'invalid_request_error', retryable: false },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', retryable: false },
  rate_limited: { status: 429, type: 'rate_limit_error', retryable: false },
  overloaded: { status: 429, type: 'rate_limit_error', retryable: false },
  request_header_fields_too_large: { status: 431, type: 'invalid_request_error', retryable: false },
  model_not_ready: { status: 503, type: 'server_error', retryable: true },
  upstream_overloaded: { status: 503, type: 'server_error', retryable: true },
  upstream_unavailable: { status: 503, type: 'server_error', retryable: true },
  all_upstreams_unavailable: { status: 503, type: 'server_error', retryable: false },
  shutting_down: { status: 503, type: 'server_error', retryable: false },
  under_pressure: { status: 503, type: 'server_error', retryable: false },
  upstream_timeout: { status: 504, type: 'timeout_error', retryable: true },
  upstream_ttft_timeout: { status: 504, type: 'timeout_error', retryable: true },
  upstream_idle_timeout: { status: 504, type: 'timeout_error', retryable: false },
  upstream_internal: { status: 502, type: 'server_error', retryable: true },
  // Triton refused the tensors built from the model's config: the same request fails the same way
  // on that route (not retried there), but a fallback may serve it.
  upstream_config_mismatch: { status: 502, type: 'server_error', retryable: true },
  upstream_bad_response: { status: 502, type: 'server_error', retryable: false },
  upstream_stream_incomplete: { status: 502, type: 'server_error', retryable: true },
  upstream_unimplemented: { status: 501, type: 'server_error', retryable: false },
  client_cancelled: { status: 499, type: 'invalid_request_error', retryable: false },
  warmup_failed: { status: 503, type: 'server_error', retryable: false },
  rollback_failed: { status: 409, type: 'invalid_request_error', retryable: false },
  rollback_in_progress: { status: 409, type: 'invalid_request_error', retryable: false },
  rollback_upstream_unavailable: { status: 503, type: 'server_error', retryable: false },
  rollback_unsupported: { status: 501, type: 'server_error', retryable: false },
  internal_error: { status: 500, type: 'server_error', retryable: false },
} as const satisfies Record<string, { status: number; type: string; retryable: boolean }>;

export type ErrorCode = keyof typeof errorTable;

export interface GatewayErrorOptions {
  /** The request field at fault, for 400s (OpenAI's `param`). */
  param?: string;
  /** Seconds the client should wait before retrying (429/503). */
  retryAfterSeconds?: number;
  /** Whether a breaker should count this failure (upstream faults only). */
  upstreamFault?: boolean;
  /** Extra top-level fields of the error body (e.g. an admin call's outcome). */
  details?: Record<string, unknown>;
  /**
   * What the client is told, when `message` carries Triton's own text: its addresses, model
   * repository paths and backend tracebacks are for on-call (the log line, diagnostics), not for
   * anyone who can send a request.
   */
  publicMessage?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly retryable: boolean;
  readonly param: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamFault: boolean;
  readonly details: Record<string, unknown> | undefined;
  private readonly publicMessage: string | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const row = errorTable[code];
    this.name = 'GatewayError';
    this.code = code;
    this.status = row.status;
    this.type = row.type;
    this.retryable = row.retryable;
    this.param = options.param;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.upstreamFault = options.upstreamFault ?? false;
    this.details = options.details;
    this.publicMessage = options.publicMessage;
  }

  /** The same error, judged again as a fault of the upstream's or not (breakers count only those). */
  withUpstreamFault(upstreamFault: boolean): GatewayError {
    if (upstreamFault === this.upstreamFault) return this;
    return new GatewayError(this.code, this.message, {
      param: this.param,
      retryAfterSeconds: this.retryAfterSeconds,
      upstreamFault,
      details: this.details,
      publicMessage: this.publicMessage,
      cause: this.cause,
    });
  }

  /** The message a client may read: `message` unless that holds upstream internals. */
  get clientMessage(): string {
    return this.publicMessage ?? this.message;
  }

  /** The OpenAI error envelope; never includes a stack, nor the upstream's own words. */
  toBody(): { error: { message: string; type: string; param: string | null; code: string } } & Record<string, unknown> {
    return { error: { message: this.clientMessage, type: this.type, param: this.param ?? null, code: this.code }, ...this.details };
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

/**
 * Why a request's signal was aborted: the GatewayError it was aborted with (the drain's deadline
 * aborts with `shutting_down`, src/shutdown.ts), else the client closing the connection.
 */
export function abortedError(signal: CancelSignal, detail = 'The client closed the connection'): GatewayError {
  return isGatewayError(signal.reason) ? signal.reason : new GatewayError('client_cancelled', detail);
}
