/**
 * Turns Triton's failures into GatewayErrors (DESIGN §5, shared/triton-protocol.md §8).
 *
 * Two inputs reach here: a gRPC status (unary calls, a stream closed with a status, or
 * `triton_grpc_error` mode) and the bare `error_message` text of a stream response, where Triton
 * has dropped the code. Message patterns are checked first because some of them mean something
 * other than their code says: TRT-LLM reports its own queue being full as INTERNAL, and a prompt
 * that is too long arrives as a backend error although it is the client's fault.
 *
 * `upstreamFault` says whether a circuit breaker should count the failure: true for an upstream
 * that is down, slow, overloaded or broken; false for the client's own mistakes and cancels.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { GatewayError, type ErrorCode } from '../errors.js';

const ENSEMBLE_PREFIX = /^in ensemble '[^']*', /;
const REQUEST_ID_PREFIX = /^\[request id: [^\]]*\] /;

const QUEUE_FULL = /Exceeds maximum queue size|Maximum queue size of/i;
// TRT-LLM: "Prompt length (N) exceeds maximum input length (M)"; vLLM phrasings of the same limit.
const CONTEXT_TOO_LONG =
  /prompt length \(\d+\) exceeds maximum input length|maximum context length is \d+|longer than the maximum model length|exceeds (the )?max(imum)?[ _](model|input|context|seq|sequence)[ _]?len/i;
const UNKNOWN_MODEL = /^Request for unknown model: /;
const DECOUPLED_UNARY = /doesn't support models with decoupled transaction policy/;
const UNAVAILABLE_TEXT =
  /^Server not ready|server is shutting down|unhealthy vLLM engine|^Request timeout expired|This protocol is restricted/i;
const CANCELLED_TEXT = /^Request was cancelled|^Cancelled$/i;
// Triton refusing the tensors of a request. The gateway builds every tensor itself from the
// model's config, so this is never the client's doing: the model's config changed under the
// gateway (a new engine, inputs renamed or retyped). An upstream fault, so that the fallback
// serves and on-call sees 5xx, rather than every client being told its valid request is wrong.
const TENSORS_REFUSED =
  /^unexpected inference input|^unexpected shape for input|data-type is '|^expected (number of )?inputs? |expected \d+ inputs but got|input byte size mismatch|batch-size must be <=|unable to find data for input tensor|contents field must not be specified|parameter keys starting with 'triton_'|invalid value type for '/;

// vLLM's SamplingParams refusing a value (its _verify_args), relayed by the backend as a stream
// error: the client's values, when the gateway's own schema let one through. Named parameters
// only, so that an engine failure that happens to say "must be" stays an upstream fault.
const VLLM_SAMPLING_REFUSED =
  /^Error generating stream: (n|best_of|presence_penalty|frequency_penalty|repetition_penalty|temperature|top_p|top_k|min_p|seed|max_tokens|min_tokens|logprobs|prompt_logprobs|stop|truncate_prompt_tokens) (must|cannot)\b/;

/** Removes the ensemble and request-id prefixes Triton puts in front of a message, repeatedly. */
export function stripTritonPrefixes(message: string): string {
  let out = message;
  for (let i = 0; i < 8; i++) {
    const next = out.replace(ENSEMBLE_PREFIX, '').replace(REQUEST_ID_PREFIX, '');
    if (next === out) break;
    out = next;
  }
  return out;
}

interface Classified {
  code: ErrorCode;
  upstreamFault: boolean;
  /** Put before Triton's text in the message. */
  preface?: string;
}

/** Patterns that decide regardless of the status code. */
function classifyByText(text: string): Classified | undefined {
  if (QUEUE_FULL.test(text)) return { code: 'upstream_overloaded', upstreamFault: true };
  if (CONTEXT_TOO_LONG.test(text)) return { code: 'context_length_exceeded', upstreamFault: false };
  if (VLLM_SAMPLING_REFUSED.test(text)) return { code: 'invalid_request', upstreamFault: false };
  if (TENSORS_REFUSED.test(text)) {
    return { code: 'upstream_config_mismatch', upstreamFault: true, preface: "Triton refused the tensors built from the model's config (has its config changed since the gateway read it?): " };
  }
  // The gateway asks Triton only for models it serves (its own lookup answers 404 for any other),
  // so Triton not knowing one means Triton lost it (restarted without it, unloaded, a pinned
  // version gone): an upstream outage for the breaker and the fallback, not the client's mistake.
  if (UNKNOWN_MODEL.test(text)) return { code: 'model_not_ready', upstreamFault: true };
  if (DECOUPLED_UNARY.test(text)) return { code: 'upstream_unimplemented', upstreamFault: false };
  return undefined;
}

function classifyByCode(code: number): Classified {
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
      return { code: 'upstream_unavailable', upstreamFault: true };
    case GrpcStatus.DEADLINE_EXCEEDED:
      return { code: 'upstream_timeout', upstreamFault: true };
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.OUT_OF_RANGE:
      return { code: 'invalid_request', upstreamFault: false };
    case GrpcStatus.NOT_FOUND:
      return { code: 'model_not_ready', upstreamFault: true };
    case GrpcStatus.UNIMPLEMENTED:
      return { code: 'upstream_unimplemented', upstreamFault: false };
    case GrpcStatus.CANCELLED:
      return { code: 'client_cancelled', upstreamFault: false };
    case GrpcStatus.RESOURCE_EXHAUSTED:
      // Triton never sends it; grpc-js does when a message exceeds the configured size limits.
      return { code: 'upstream_bad_response', upstreamFault: false };
    default:
      // INTERNAL, UNKNOWN, DATA_LOSS, ... : the upstream broke.
      return { code: 'upstream_internal', upstreamFault: true };
  }
}

/** Stream `error_message` text has no code: classify by Triton's documented messages. */
function classifyStreamText(text: string): Classified {
  if (UNAVAILABLE_TEXT.test(text)) return { code: 'upstream_unavailable', upstreamFault: true };
  // Triton cancelling a request itself (vLLM's "Request was cancelled" while it shuts down): the
  // gateway drops everything after cancelling a call of its own (stream-reader.ts) and never
  // cancels a shared stream, so this is never its client leaving. The client is still there:
  // retried and served by a fallback like an unavailable Triton, not told it cancelled.
  if (CANCELLED_TEXT.test(text)) return { code: 'upstream_unavailable', upstreamFault: true };
  return { code: 'upstream_internal', upstreamFault: true };
}

/**
 * Triton's own text, kept for the client's answer and the log, but cut: a backend (a BLS or Python
 * model) may quote its inputs in an error, and neither a log line nor an answer should carry a
 * whole prompt back.
 */
const MAX_UPSTREAM_MESSAGE_CHARS = 500;

function capped(message: string): string {
  return message.length <= MAX_UPSTREAM_MESSAGE_CHARS ? message : `${message.slice(0, MAX_UPSTREAM_MESSAGE_CHARS)}… (${message.length} characters, cut)`;
}

/**
 * A prompt too long for the model is the client's to fix, so it gets Triton's own sentence about
 * the lengths without the ensemble and executor wrapping ("in ensemble 'x', Executor failed
 * process requestId 3 due to the following error: "), which names only Triton's internals.
 */
function contextLengthMessage(message: string): string {
  return stripTritonPrefixes(message).replace(/^.*?due to the following error: /i, '');
}

/**
 * What a client reads instead of Triton's own text, for the failures that are not the client's:
 * Triton's words there name its addresses, model repository paths and backend internals, which
 * are for on-call (the log line keeps them), not for anyone who can send a request. The client's
 * own mistakes (a bad value, a prompt too long) keep Triton's sentence: it is theirs to fix.
 */
const PUBLIC_MESSAGES: Partial<Record<ErrorCode, string>> = {
  upstream_unavailable: 'Triton is unavailable',
  upstream_overloaded: "Triton's queue for this model is full",
  upstream_timeout: 'Triton did not answer in time',
  model_not_ready: 'The model is not loaded on Triton',
  upstream_internal: 'Triton failed to serve the request',
  upstream_config_mismatch: "Triton refused the tensors built from the model's config (has its config changed since the gateway read it?)",
  upstream_unimplemented: 'Triton does not support this call for the model',
  upstream_bad_response: "Triton's answer could not be read",
};

/** `publicMessage`: a sentence more precise than the code's own (PUBLIC_MESSAGES) for the client. */
function build(c: Classified, message: string, publicMessage?: string): GatewayError {
  if (c.code === 'context_length_exceeded') message = contextLengthMessage(message);
  if (c.preface !== undefined) message = c.preface + message;
  publicMessage ??= PUBLIC_MESSAGES[c.code];
  const retryAfterSeconds = c.code === 'upstream_overloaded' || c.code === 'upstream_unavailable' || c.code === 'model_not_ready' ? 1 : undefined;
  return new GatewayError(c.code, capped(message), {
    upstreamFault: c.upstreamFault,
    ...(publicMessage === undefined ? {} : { publicMessage }),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(c.code === 'context_length_exceeded' ? { param: 'prompt' } : {}),
  });
}

const NO_CONNECTION = /No connection established/;
const LAST_ERROR = /Last error: (?:Error: )?(.*?)(?=\. Last error: |\. Resolution note:|$)/g;
const CANNOT_CONNECT = 'cannot connect to Triton';

/**
 * grpc-js's own text when it could not connect, nested once per load-balancing layer, e.g.
 * "round_robin: No connection established. Last error: No connection established. Last error:
 * Error: connect ECONNREFUSED 10.0.0.5:8001. Resolution note: ": only the innermost cause says
 * anything to on-call (the client reads CANNOT_CONNECT alone). Undefined for any other text.
 */
function connectionFailure(details: string): string | undefined {
  if (!NO_CONNECTION.test(details)) return undefined;
  const cause = [...details.matchAll(LAST_ERROR)].map((m) => m[1]!).filter((c) => c !== '' && !NO_CONNECTION.test(c)).at(-1);
  return `${CANNOT_CONNECT}${cause === undefined ? '' : `: ${cause}`}`;
}

/** A gRPC status (code + details) to a GatewayError. */
export function fromGrpcStatus(code: number, details: string): GatewayError {
  const text = stripTritonPrefixes(details);
  const connection = code === GrpcStatus.UNAVAILABLE ? connectionFailure(details) : undefined;
  const c = classifyByText(text) ?? classifyByCode(code);
  return build(c, connection ?? (details || `gRPC status ${GrpcStatus[code] ?? code}`), connection === undefined ? undefined : CANNOT_CONNECT);
}

/** An `error_message` from a ModelStreamInfer response (default mode: no status code). */
export function fromStreamErrorMessage(message: string): GatewayError {
  const text = stripTritonPrefixes(message);
  return build(classifyByText(text) ?? classifyStreamText(text), message);
}

/** Anything grpc-js threw or emitted (a ServiceError), or an unexpected error. */
export function fromGrpcError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { code?: unknown; details?: unknown; message?: unknown } | null;
  if (e !== null && typeof e === 'object' && typeof e.code === 'number') {
    const details = typeof e.details === 'string' ? e.details : typeof e.message === 'string' ? e.message : '';
    // Not kept as the cause: the log would print grpc-js's error, whose text is Triton's whole
    // message, uncut (the gRPC code is in the classification, the text in the capped message).
    return fromGrpcStatus(e.code, details);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError('upstream_internal', `Triton call failed: ${message}`, { upstreamFault: true, publicMessage: PUBLIC_MESSAGES.upstream_internal, cause: err });
}

/**
 * The error of a call (a stream or a unary call) the gateway did not cancel. CANCELLED then comes
 * from the server (Triton shutting down), so it is an unavailable upstream, not the client leaving.
 */
export function fromUncancelledCallError(err: unknown): GatewayError {
  const e = err as { code?: unknown; details?: unknown } | null;
  if (e !== null && typeof e === 'object' && e.code === GrpcStatus.CANCELLED) {
    return build({ code: 'upstream_unavailable', upstreamFault: true }, `Triton cancelled the call: ${String(e.details ?? '')}`, 'Triton cancelled the call');
  }
  return fromGrpcError(err);
}
