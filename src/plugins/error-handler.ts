/**
 * The only place an error becomes a response: every failure leaves as an OpenAI error envelope
 * with the right status, never a stack trace, never a 200. 5xx answers are logged here, once,
 * with their stack; 4xx are the client's business and are only counted.
 *
 * That includes the errors found before any route or hook runs: fastify's `frameworkErrors`
 * (a malformed percent-encoding in the path) and Node's `clientError` (a request its HTTP parser
 * refused), which app.ts points at frameworkErrorSender and clientErrorResponder below.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GatewayError, isGatewayError } from '../errors.js';
import type { Metrics } from '../telemetry/metrics.js';
import { AllowedMethods } from './allowed-methods.js';
import { answeredByParser } from './parser-answers.js';

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** A zod issue as it sits inside an `invalid_union` issue's `errors`, one list per branch. */
interface UnionBranchIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
}

/**
 * zod says only "Invalid input" when no branch of a union fits (`stop: ['a','b','c','d','e']`).
 * A branch whose issues are more than a wrong type at the union's own place is the one the client
 * meant (the array, too long); when just one branch is like that, its first issue is the answer.
 * Otherwise the value had none of the types, and the message lists them.
 */
function fromUnion(issue: ValidationIssue): ValidationIssue {
  const branches = issue.params?.errors;
  if (!Array.isArray(branches)) return issue;
  const typed = (branches as UnionBranchIssue[][]).filter((branch) => branch.some((i) => i.code !== 'invalid_type' || i.path.length > 0));
  if (typed.length === 1 && typed[0]!.length > 0) {
    const inner = typed[0]![0]!;
    return { keyword: inner.code, instancePath: [issue.instancePath.replace(/\/$/, ''), ...inner.path.map(String)].join('/'), message: inner.message, params: {} };
  }
  const expected = [...new Set((branches as UnionBranchIssue[][]).flat().flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 && i.expected ? [i.expected] : [])))];
  return expected.length > 0 ? { ...issue, message: `expected ${expected.join(' or ')}` } : issue;
}

function fromValidation(issues: ValidationIssue[], context: string | undefined): GatewayError {
  const issue = issues[0]!.keyword === 'invalid_union' ? fromUnion(issues[0]!) : issues[0]!;
  let param = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
  let message = issue.message ?? 'invalid value';
  if (issue.keyword === 'unrecognized_keys') {
    const keys = (issue.params?.keys as string[] | undefined) ?? [];
    param = [param, keys[0]].filter(Boolean).join('.');
    message = `Unrecognized request argument supplied: ${keys.join(', ')}`;
  } else if (issue.keyword === 'invalid_type' && /received undefined/.test(message)) {
    message = `Missing required parameter: '${param}'`;
  } else if (param) {
    message = `Invalid value for '${param}': ${message}`;
  }
  if (context && context !== 'body' && !param) param = context;
  return new GatewayError('invalid_request', message, { param: param || undefined });
}

/** Translates fastify's own errors (body parsing, limits, validation) into gateway errors. */
export function toGatewayError(err: FastifyError): GatewayError {
  if (isGatewayError(err)) return err;
  if (err.validation) return fromValidation(err.validation as unknown as ValidationIssue[], err.validationContext);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('payload_too_large', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('unsupported_media_type', 'Content-Type must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('invalid_request', 'The request body is empty; expected a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('invalid_request', 'The Content-Length header does not match the body');
    case 'FST_ERR_BAD_URL':
      return new GatewayError('invalid_request', 'The request path is not a valid URL (malformed percent-encoding)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new GatewayError('invalid_request', 'A path parameter is too long');
    default:
      break;
  }
  // The body stopped arriving because the client went away (Node's request "aborted" error), not
  // a bad body. Only that one: a reset of some outbound connection a handler let through is ours.
  if (err.code === 'ECONNRESET' && err.message === 'aborted') return new GatewayError('client_cancelled', 'The client closed the connection while sending the request');
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new GatewayError('invalid_request', 'The request body is not valid JSON');
  }
  const status = err.statusCode ?? 500;
  if (status === 404) return new GatewayError('not_found', 'Not found');
  if (status === 413) return new GatewayError('payload_too_large', 'The request body is too large');
  if (status === 415) return new GatewayError('unsupported_media_type', 'Content-Type must be application/json');
  if (status === 429) return new GatewayError('rate_limited', err.message || 'Too many requests');
  if (status >= 400 && status < 500) return new GatewayError('invalid_request', err.message || 'Bad request');
  return new GatewayError('internal_error', 'Internal server error', { cause: err });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The gateway error this request ended with, for metrics and the completion log line. */
    gatewayError: GatewayError | undefined;
  }
}

function sendGatewayError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply {
  request.gatewayError = error;
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  return reply.code(error.status).type('application/json').send(error.toBody());
}

const NOT_FAILURES: ReadonlySet<string> = new Set(['all_upstreams_unavailable', 'shutting_down', 'under_pressure']);

async function errorHandlerPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('gatewayError', undefined);
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const error = toGatewayError(err);
    // Nothing failed in these: every upstream refused (logged where it was decided), a stop, or
    // load shed on purpose (counted in requests_shed_total; a line with a stack for each refused
    // request would be written exactly when the process is short of CPU).
    if (error.status >= 500 && !NOT_FAILURES.has(error.code)) {
      // The request's trace ids, as on its completion line, so the failure and its trace meet.
      request.log.error({ ...request.observer?.logFields, err: error.cause ?? error, error_code: error.code }, 'request failed');
    }
    return sendGatewayError(request, reply, error);
  });
  const allowed = new AllowedMethods();
  app.addHook('onRoute', (route) => allowed.add(route.method, route.url));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const methods = allowed.for(request.url);
    if (methods.length === 0) return sendGatewayError(request, reply, new GatewayError('not_found', `No route for ${request.method} ${path}`));
    reply.header('allow', methods.join(', '));
    return sendGatewayError(request, reply, new GatewayError('method_not_allowed', `${request.method} is not allowed on ${path}; use ${methods.join(' or ')}`));
  });
}

export default fp(errorHandlerPlugin, { name: 'error-handler' });

/** The endpoint label of an answer no route gave, as the observability plugin counts a 404. */
const unmatched = 'unmatched';

/** What the observability plugin counts for every answer, for the two kinds that pass no hook. */
function countUnrouted(metrics: Metrics, method: string, error: GatewayError): void {
  metrics.httpRequests.inc({ method, endpoint: unmatched, status: String(error.status) });
  metrics.errors.inc({ error_type: error.code, endpoint: unmatched });
}

/**
 * fastify's `frameworkErrors`: a path with a malformed percent-encoding, an over-long path
 * parameter. Fastify answers these before routing, so no hook runs: the request id header and
 * the counting that the observability plugin does are done here.
 */
export function frameworkErrorSender(metrics: Metrics) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const error = toGatewayError(err);
    countUnrouted(metrics, request.method, error);
    void sendGatewayError(request, reply.header('x-request-id', request.id), error);
  };
}

/**
 * Node's `clientError`: a request its HTTP parser refused (headers over the size limit, a
 * malformed request line or header such as `Content-Length: abc`, a request not received within
 * the server's timeouts). It never becomes a fastify request, so the envelope is written on the
 * socket itself and the socket closed: after a parse error nothing more on it can be read.
 */
export function clientErrorResponder(metrics: Metrics) {
  return (err: Error & { code?: string }, socket: Duplex): void => {
    // A connection reset has nobody to answer (as fastify's default handler). Nor has a client
    // that hung up in the middle of its body (the parser's HPE_INVALID_EOF_STATE once a request,
    // and so its response, exists): that request is counted, once, as cancelled on its route. Cut
    // short in its headers, there is no request yet, and it is answered and counted below.
    const inFlight = (socket as Duplex & { _httpMessage?: unknown })._httpMessage != null;
    if (err.code === 'HPE_INVALID_EOF_STATE' && inFlight) {
      socket.destroy();
      return;
    }
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const error =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new GatewayError('request_header_fields_too_large', 'The request headers are too large')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new GatewayError('request_timeout', 'The request was not received in time')
          : new GatewayError('invalid_request', 'The request is not valid HTTP');
    // No answer when a response on this connection is already under way (the bad request was
    // pipelined after it): bytes in its middle would corrupt it (Node's own default checks the same).
    const underWay = (socket as Duplex & { _httpMessage?: { headersSent: boolean } | null })._httpMessage?.headersSent === true;
    if (!socket.writable || underWay) {
      socket.destroy();
      return;
    }
    // A request a route has under way is recorded there, with this answer (plugins/parser-answers.ts).
    const routed = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (routed != null) answeredByParser.set(routed, error);
    // The parser never produced a method: a fixed label keeps the series bounded.
    else countUnrouted(metrics, 'unknown', error);
    const body = JSON.stringify(error.toBody());
    const head = `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${randomUUID()}\r\nconnection: close\r\n\r\n`;
    socket.end(head + body, () => socket.destroy());
  };
}
