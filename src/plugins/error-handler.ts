/**
 * The only place an error becomes a response: every failure leaves as an OpenAI error envelope
 * with the right status, never a stack trace, never a 200. 5xx answers are logged here, once,
 * with their stack; 4xx are the client's business and are only counted.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GatewayError, isGatewayError } from '../errors.js';

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

function fromValidation(issues: ValidationIssue[], context: string | undefined): GatewayError {
  const issue = issues[0]!;
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
    default:
      break;
  }
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

export function sendGatewayError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply {
  request.gatewayError = error;
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  return reply.code(error.status).type('application/json').send(error.toBody());
}

async function errorHandlerPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('gatewayError', undefined);
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const error = toGatewayError(err);
    if (error.status >= 500 && error.code !== 'all_upstreams_unavailable') {
      request.log.error({ err: error.cause ?? error, error_code: error.code }, 'request failed');
    }
    return sendGatewayError(request, reply, error);
  });
  app.setNotFoundHandler((request, reply) =>
    sendGatewayError(request, reply, new GatewayError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

export default fp(errorHandlerPlugin, { name: 'error-handler' });
