/**
 * The webhook notifier against a real local receiver: retries with backoff until the receiver
 * recovers, gives up after its retries, does not retry a 4xx, and never makes the caller wait.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { WebhookNotifier } from '../../../src/governance/webhook.js';

interface Call {
  key: string | undefined;
  body: unknown;
}

/** A receiver whose answer per call is decided by `answer(n)` (n from 1). */
async function receiver(answer: (n: number) => number | Promise<number>): Promise<{ url: string; calls: Call[]; server: Server }> {
  const calls: Call[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    calls.push({ key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    res.statusCode = await answer(calls.length);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const servers = [server];
  after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, calls, server };
}

test('a receiver that fails the first calls gets the payload on a retry, with the same idempotency key', async () => {
  const r = await receiver((n) => (n <= 2 ? 503 : 204));
  const hook = new WebhookNotifier({ url: r.url, name: 'test', retries: 4, baseDelayMs: 10, timeoutMs: 2000 });
  hook.send({ event: 'llm_observability_alert', n: 1 }, 'event-1');
  await hook.idle();
  assert.equal(r.calls.length, 3);
  assert.deepEqual(r.calls.map((c) => c.key), ['event-1', 'event-1', 'event-1']);
  assert.deepEqual(r.calls[2]!.body, { event: 'llm_observability_alert', n: 1 });
  assert.deepEqual({ ...hook.snapshot() }, { delivered: 1, failed: 0, dropped: 0, attempts: 3, queued: 0 });
  await hook.close();
});

test('gives up after its retries; a 4xx is final', async () => {
  const down = await receiver(() => 500);
  const hook = new WebhookNotifier({ url: down.url, name: 'test', retries: 2, baseDelayMs: 5, timeoutMs: 2000 });
  hook.send({ a: 1 });
  await hook.idle();
  assert.equal(down.calls.length, 3);
  assert.equal(hook.snapshot().failed, 1);

  const refusing = await receiver(() => 400);
  const hook2 = new WebhookNotifier({ url: refusing.url, name: 'test', retries: 5, baseDelayMs: 5, timeoutMs: 2000 });
  hook2.send({ a: 1 });
  await hook2.idle();
  assert.equal(refusing.calls.length, 1);
  assert.equal(hook2.snapshot().failed, 1);
  await Promise.all([hook.close(), hook2.close()]);
});

test('send() only queues: the caller never waits for the receiver, and payloads go out in order', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const r = await receiver(async (n) => {
    if (n === 1) await held;
    return 200;
  });
  const hook = new WebhookNotifier({ url: r.url, name: 'test', retries: 0, baseDelayMs: 5, timeoutMs: 5000 });
  const returned = hook.send({ seq: 1 });
  hook.send({ seq: 2 });
  assert.equal(returned, undefined);
  // The receiver is still holding the first call: nothing was delivered, both are queued.
  assert.equal(hook.snapshot().delivered, 0);
  assert.equal(hook.snapshot().queued, 2);
  release();
  await hook.idle();
  assert.deepEqual(r.calls.map((c) => (c.body as { seq: number }).seq), [1, 2]);
  await hook.close();
});

test('an unreachable receiver is retried as a network error, then counted as failed', async () => {
  const r = await receiver(() => 200);
  await new Promise((resolve) => r.server.close(resolve));
  const hook = new WebhookNotifier({ url: r.url, name: 'test', retries: 1, baseDelayMs: 5, timeoutMs: 1000 });
  hook.send({ a: 1 });
  await hook.idle();
  assert.deepEqual({ attempts: hook.snapshot().attempts, failed: hook.snapshot().failed }, { attempts: 2, failed: 1 });
  await hook.close();
});
