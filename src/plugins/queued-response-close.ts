/**
 * A response queued behind another on its connection (HTTP/1.1 pipelining) is told when the
 * connection closes, as any other response is: 'close' before 'finish'. Node 20 attaches the
 * close listener only when a response gets its socket, so a queued one never heard of a client
 * that left (fixed upstream by nodejs/node#62534): its Triton call ran to the end, its admission
 * slot stayed taken, and it was recorded as a success. Nothing is done for the usual response,
 * which has its socket from the start.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

async function queuedResponseClosePlugin(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', (request, reply, done) => {
    const res = reply.raw;
    const socket = request.raw.socket;
    if (res.socket === null && socket !== null) {
      const onConnectionClose = (): void => {
        // A Node that does close queued responses has done so by now (its listener came first).
        if (res.socket !== null || res.destroyed || res.writableFinished) return;
        res.destroyed = true;
        res.emit('close');
      };
      socket.once('close', onConnectionClose);
      res.once('socket', () => socket.off('close', onConnectionClose));
    }
    done();
  });
}

export default fp(queuedResponseClosePlugin, { name: 'queued-response-close' });
