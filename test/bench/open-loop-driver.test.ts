/**
 * The benchmark's open-loop driver against a tiny local HTTP server: arrivals keep their
 * schedule whatever the server does, latency counts from the scheduled time (so a backlog
 * shows), and overload and stragglers are counted rather than hidden. Only lower bounds on
 * time are asserted (a slow machine can make things later, never earlier).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { runOpenLoop } from '../../bench/lib/open-loop.js';

let server: Server;
let base: string;
/** The server answers one request at a time, each after `serviceMs`; `hang` never answers. */
let serviceMs = 0;
let hang = false;
const queue: Array<() => void> = [];
let busy = false;
const held: Array<() => void> = [];

function pump(): void {
  if (busy) return;
  const next = queue.shift();
  if (!next) return;
  busy = true;
  setTimeout(() => {
    next();
    busy = false;
    pump();
  }, serviceMs);
}

before(async () => {
  server = createServer((req, res) => {
    const answer = (): void => {
      res.end('ok');
    };
    if (hang) {
      held.push(answer);
      return;
    }
    queue.push(answer);
    pump();
  });
  server.keepAliveTimeout = 1;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

after(async () => {
  for (const answer of held.splice(0)) answer();
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

function hit(): Promise<void> {
  return new Promise((resolve, reject) => {
    get(base, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

test('sends rate × duration requests, none before its scheduled time', async () => {
  serviceMs = 0;
  hang = false;
  const sentAt: number[] = [];
  let start = 0;
  const result = await runOpenLoop({
    rate: 200,
    durationMs: 300,
    send: (i, scheduledAt) => {
      if (i === 0) start = scheduledAt;
      sentAt[i] = performance.now();
      return hit();
    },
  });
  assert.equal(result.scheduled, 60);
  assert.equal(result.completed, 60);
  assert.equal(result.errors, 0);
  assert.equal(result.latenciesMs.length, 60);
  // Arrival i is due 5 ms after arrival i - 1, and is never sent early (1 ms timer rounding allowed).
  result.scheduledAtMs.forEach((at, i) => assert.ok(Math.abs(at - i * 5) < 1e-6, `arrival ${i} scheduled at ${at} ms`));
  sentAt.forEach((t, i) => assert.ok(t >= start + i * 5 - 1, `request ${i} sent ${(start + i * 5 - t).toFixed(2)} ms early`));
  assert.ok(result.sendLagMs.every((lag) => lag >= -1));
  // That no request went early is also what shows the schedule was not compressed. (Send times are
  // not compared with each other: a stall of this process, 47 s once in a fresh-clone CI run,
  // rightly sends everything that came due at once.)
});

test('latency counts from the scheduled time, so a server backlog shows as latency', async () => {
  // 200 arrivals/s offered to a server that serves 100/s one at a time: the queue grows by one
  // request every 10 ms, and the last of 40 requests waits behind ~20 others.
  serviceMs = 10;
  hang = false;
  const result = await runOpenLoop({ rate: 200, durationMs: 200, send: () => hit() });
  assert.equal(result.completed, 40);
  const max = Math.max(...result.latenciesMs);
  // Request i cannot finish before (i + 1) × 10 ms of service, and was due at i × 5 ms.
  assert.ok(max >= 39 * 10 + 10 - 39 * 5 - 2, `max latency ${max.toFixed(1)} ms hides the backlog`);
  assert.ok(Math.min(...result.latenciesMs) >= serviceMs - 1);
  // Throughput is what the server delivered, not what was offered.
  assert.ok(result.completed / (result.elapsedMs / 1000) <= 110);
});

test('a driver that falls behind its schedule shows it as latency, not as a lower rate', async () => {
  // The first send blocks the event loop for 30 ms: the arrivals due meanwhile go out late,
  // and their latency (from their scheduled time) includes the wait even though the "server"
  // answers at once.
  const result = await runOpenLoop({
    rate: 1000,
    durationMs: 20,
    send: (i) => {
      if (i === 0) {
        const until = performance.now() + 30;
        while (performance.now() < until);
      }
      return Promise.resolve();
    },
  });
  assert.equal(result.completed, 20);
  assert.ok(result.sendLagMs[1]! >= 28, `send lag of the second arrival ${result.sendLagMs[1]!.toFixed(1)} ms`);
  assert.ok(Math.max(...result.latenciesMs) >= 28);
});

test('arrivals beyond maxOutstanding are dropped, and stragglers past the drain timeout are errors', async () => {
  serviceMs = 0;
  hang = true;
  const result = await runOpenLoop({ rate: 200, durationMs: 100, send: () => hit(), maxOutstanding: 5, drainTimeoutMs: 100 });
  assert.equal(result.scheduled, 20);
  assert.equal(result.dropped, 15);
  assert.equal(result.timedOut, 5);
  assert.equal(result.errors, 5);
  assert.equal(result.completed, 0);
  assert.match(result.errorSamples.join('\n'), /5 requests still outstanding/);
  for (const answer of held.splice(0)) answer();
  hang = false;
});

test('a failed request is an error with its message, not a latency sample', async () => {
  const result = await runOpenLoop({
    rate: 100,
    durationMs: 50,
    send: (i) => (i % 2 === 0 ? Promise.resolve() : Promise.reject(new Error('HTTP 503'))),
  });
  assert.equal(result.scheduled, 5);
  assert.equal(result.completed, 3);
  assert.equal(result.errors, 2);
  assert.equal(result.latenciesMs.length, 3);
  assert.deepEqual(result.errorSamples, ['HTTP 503']);
});
