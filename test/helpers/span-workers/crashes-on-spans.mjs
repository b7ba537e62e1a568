// A span export worker that starts and then dies on its first batch.
import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ type: 'ready' });
parentPort.on('message', (message) => {
  if (message.type === 'spans') throw new Error('exporter blew up');
});
