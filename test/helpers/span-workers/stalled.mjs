// A span export worker that starts and then never takes a batch: the queue towards it fills up.
import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ type: 'ready' });
parentPort.on('message', () => {});
