/**
 * The graceful stop of one gateway, for src/server.ts (SIGTERM/SIGINT) and the demo (Ctrl-C):
 * refuse new inference requests, give the ones in flight up to the drain time, then end the ones
 * still running on purpose and close.
 *
 * Ending them is what keeps the stop on time: app.close() waits for every open response, so a
 * stream longer than the drain held the process until close-with-grace's timer killed it
 * (exit 1), cutting the stream with no error event, no completion log line, no metrics, no span
 * and no trace flush. Ended through their own cancel switch, they fail like any request: a stream
 * gets an in-band `error` event, a request not yet answered a 503, the Triton call is cancelled,
 * and the observer records each one.
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from './errors.js';
import type { GatewayServices } from './services.js';

/** How long the requests ended at the deadline get to send their last bytes and be recorded. */
const settleMs = 1_000;

/** Inference requests still in the gateway: admitted, queued for a slot, or not yet released. */
function remaining(services: GatewayServices): number {
  const { inFlight, queued } = services.admission.state;
  return Math.max(services.active.size, services.lifecycle.running.size, inFlight + queued);
}

async function waitUntilIdle(services: GatewayServices, deadline: number): Promise<number> {
  while (remaining(services) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return remaining(services);
}

/** Resolves once the app is closed: at most about `drainMs` + 1 s, plus the app's onClose hooks. */
export async function drainAndClose(app: FastifyInstance, drainMs: number): Promise<void> {
  const { services } = app;
  services.lifecycle.draining = true;
  const left = await waitUntilIdle(services, Date.now() + drainMs);
  if (left > 0) {
    app.log.warn({ in_flight: left }, 'drain time over; ending the requests still in flight');
    const reason = new GatewayError('shutting_down', 'The gateway is shutting down; the request was still running when its drain time ran out', { retryAfterSeconds: 1 });
    // Aborted with the reason: whatever turns the abort into an error (abortedError) tells the
    // client why, where a plain abort means the client left.
    for (const controller of services.lifecycle.running) controller.abort(reason);
    const unsettled = await waitUntilIdle(services, Date.now() + settleMs);
    // A client that stopped reading cannot take its error event; closing its connection ends it.
    if (unsettled > 0) app.log.warn({ in_flight: unsettled }, 'requests still open after being ended; closing their connections');
  }
  // The app closes every connection left (forceCloseConnections in app.ts), then its Triton channels.
  await app.close();
}
