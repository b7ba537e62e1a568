/**
 * The benchmark's SSE client against a tiny local server that frames OpenAI completion chunks
 * the way the gateway does, split awkwardly across writes: every token is counted once, the
 * closing chunk (empty text) is not a token, and a stream without [DONE] is an error.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { completionClient } from '../../bench/lib/gateway-client.js';
import { StreamTimings } from '../../bench/lib/stream-timings.js';

let server: Server;
let base: string;
let withDone = true;

const chunk = (text: string, finish: string | null): string =>
  `data: ${JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text, finish_reason: finish, logprobs: null }] })}\n\n`;

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const body = [chunk(' alpha', null), chunk(' beta', null), chunk(' gamma', null), chunk('', 'length'), withDone ? 'data: [DONE]\n\n' : ''].join('');
      // Cut the body at odd places, including inside "\n\n" and inside "data: ".
      const cuts = [3, 50, 51, 130, 131, 132, body.length - 5, body.length];
      let from = 0;
      const writeNext = (): void => {
        const to = cuts.shift();
        if (to === undefined || from >= body.length) {
          res.end();
          return;
        }
        res.write(body.slice(from, Math.min(to, body.length)));
        from = to;
        setTimeout(writeNext, 2);
      };
      writeNext();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

test('counts each relayed token once and measures time to first token from the scheduled start', async () => {
  withDone = true;
  const client = completionClient(base, 'm', { maxTokens: 4, streamTokens: 4 });
  const timings = new StreamTimings();
  const scheduledAt = performance.now() - 5;
  try {
    await Promise.all([client.stream(0, scheduledAt, timings), client.stream(1, scheduledAt, timings)]);
  } finally {
    client.close();
  }
  assert.equal(timings.arrivals.length, 6);
  assert.equal(timings.ttftMs.length, 2);
  assert.equal(timings.gapsMs.length, 4);
  assert.ok(timings.ttftMs.every((t) => t >= 5));
  assert.ok(timings.gapsMs.every((g) => g >= 0));
  assert.equal(timings.peakOpen, 2);
  assert.equal(timings.open, 0);
});

test('a stream that ends without [DONE] is an error', async () => {
  withDone = false;
  const client = completionClient(base, 'm', { maxTokens: 4, streamTokens: 4 });
  try {
    await assert.rejects(client.stream(0, performance.now(), new StreamTimings()), /without \[DONE\]/);
  } finally {
    client.close();
  }
});
