/**
 * Request ids and the per-request HTTP metrics. Every answer is counted by route template
 * (never the raw URL) and status, 5xx included; /metrics does not count itself. Inference
 * requests hand their observer the final status so it can write the completion log line.
 *
 * Each request is recorded exactly once: on the response's 'finish' (fastify's onResponse) or,
 * when the client closed the connection first, as 499 once the route has settled. Fastify runs
 * onResponse only on 'finish', which a response whose socket is gone never emits; without the
 * second path a disconnect left no log line, no metrics, an unended span and unbilled tokens.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GatewayError } from '../errors.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { RecentErrors } from '../telemetry/recent-errors.js';
import { answeredByParser } from './parser-answers.js';

/** nginx's "client closed request": the answer nobody received. */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * Waits for both halves of an early close: the connection closing before the response finished,
 * and the route settling (its reply handed to fastify, or a hijacked stream's relay ended), so
 * the error code, partial usage and cost the route records are in the accounting.
 */
export class RequestAccounting {
  private recorded = false;
  private clientGone = false;
  private routeSettled = false;

  constructor(private readonly record: (status: number, clientGone: boolean) => void) {}

  /** The response finished: the normal path. */
  responseFinished(status: number): void {
    this.once(status, false);
  }

  /** The connection closed before the response finished. */
  clientClosed(): void {
    this.clientGone = true;
    if (this.routeSettled) this.once(CLIENT_CLOSED_REQUEST, true);
  }

  /** The route has nothing more to record: its reply was sent, or its stream relay ended. */
  settled(): void {
    this.routeSettled = true;
    if (this.clientGone) this.once(CLIENT_CLOSED_REQUEST, true);
  }

  private once(status: number, clientGone: boolean): void {
    if (this.recorded) return;
    this.recorded = true;
    this.record(status, clientGone);
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Undefined for /metrics, which is never recorded. */
    accounting: RequestAccounting | undefined;
  }
}

async function observabilityPlugin(app: FastifyInstance, opts: { metrics: Metrics; recentErrors: RecentErrors }): Promise<void> {
  const { metrics, recentErrors } = opts;

  const record = (request: FastifyRequest, reply: FastifyReply, endpoint: string, status: number, clientGone: boolean): void => {
    const observer = request.observer;
    if (observer && observer.errorCodeValue === undefined) {
      // An error thrown before the route's own catch (admission: shed, or the client leaving the
      // queue) is only on the request; a stream its client cut carries no error of its own.
      const error = request.gatewayError ?? (clientGone ? new GatewayError('client_cancelled', 'The client closed the connection') : undefined);
      if (error) observer.failed(error);
    }
    metrics.httpRequests.inc({ method: request.method, endpoint, status: String(status) });
    // Until 'finish', elapsedTime runs to now: the time the client waited before leaving.
    metrics.requestDuration.observe({ endpoint }, reply.elapsedTime / 1000);
    const errorCode = request.gatewayError?.code ?? observer?.errorCodeValue;
    if (errorCode !== undefined || status >= 400) {
      metrics.errors.inc({ error_type: errorCode ?? `http_${status}`, endpoint });
      if (errorCode !== undefined && endpoint.startsWith('/v1/')) {
        recentErrors.add({ at: new Date().toISOString(), requestId: request.id, model: observer?.model ?? null, code: errorCode, status });
      }
    }
    observer?.finish(status);
  };

  app.decorateRequest('observer', undefined);
  app.decorateRequest('accounting', undefined);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const endpoint = request.routeOptions.url ?? 'unmatched';
    if (endpoint === '/metrics') return;
    const accounting = new RequestAccounting((status, clientGone) => record(request, reply, endpoint, status, clientGone));
    request.accounting = accounting;
    // 'close' also follows a normal 'finish'; only a close before it is the client leaving, or
    // Node's parser cutting the request short and the error handler answering on the socket.
    reply.raw.once('close', () => {
      const told = answeredByParser.get(reply.raw);
      if (told !== undefined) {
        request.gatewayError = told;
        accounting.responseFinished(told.status);
      } else if (!reply.raw.writableFinished) accounting.clientClosed();
    });
  });
  // Every reply that is not hijacked passes here once the route is done with it (errors included).
  // A callback hook, not async: no promise per response.
  app.addHook('onSend', (request, _reply, payload, done) => {
    request.accounting?.settled();
    done(null, payload);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.accounting?.responseFinished(reply.statusCode);
  });
}

export default fp(observabilityPlugin, { name: 'observability' });
