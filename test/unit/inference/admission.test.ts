import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../../src/errors.js';
import { AdmissionController } from '../../../src/inference/admission.js';

const limits = { maxInFlight: 2, maxQueue: 1, queueTimeoutMs: 1000, modelMaxInFlight: {} };

test('admits up to the limit, queues FIFO, and refuses when the queue is full', async () => {
  const shed: string[] = [];
  const a = new AdmissionController(limits, { shed: (r) => shed.push(r) });
  const signal = new AbortController().signal;
  const r1 = await a.acquire('m', signal);
  await a.acquire('m', signal);
  assert.equal(a.state.inFlight, 2);
  const queued = a.acquire('m', signal);
  assert.equal(a.state.queued, 1);
  await assert.rejects(a.acquire('m', signal), (err: unknown) => err instanceof GatewayError && err.status === 429 && err.retryAfterSeconds === 1);
  assert.deepEqual(shed, ['queue_full']);
  r1();
  r1(); // releasing twice must not free two slots
  const r3 = await queued;
  assert.equal(a.state.inFlight, 2);
  assert.equal(a.state.queued, 0);
  r3();
  assert.equal(a.state.inFlight, 1);
});

test('a queued request times out with 429', async () => {
  const a = new AdmissionController({ ...limits, maxInFlight: 1, queueTimeoutMs: 20 });
  const signal = new AbortController().signal;
  await a.acquire('m', signal);
  await assert.rejects(a.acquire('m', signal), (err: unknown) => err instanceof GatewayError && err.code === 'overloaded');
  assert.equal(a.state.queued, 0);
});

test("a queued request whose own deadline comes first fails as timed out (504), not as shed load", async () => {
  const shed: string[] = [];
  const a = new AdmissionController({ ...limits, maxInFlight: 1, queueTimeoutMs: 10_000 }, { shed: (r) => shed.push(r) });
  const signal = new AbortController().signal;
  await a.acquire('m', signal);
  // 504 upstream_timeout, not the queue timeout's 429: the deadline ended the wait.
  await assert.rejects(a.acquire('m', signal, Date.now() + 30), (err: unknown) => err instanceof GatewayError && err.code === 'upstream_timeout' && err.status === 504);
  assert.equal(a.state.queued, 0);
  assert.deepEqual(shed, []);
  // A deadline already past never queues.
  await assert.rejects(a.acquire('m', signal, Date.now() - 1), (err: unknown) => err instanceof GatewayError && err.code === 'upstream_timeout');
  assert.equal(a.state.queued, 0);
});

test('a per-model limit holds that model back without blocking others', async () => {
  const a = new AdmissionController({ ...limits, maxInFlight: 10, maxQueue: 10, modelMaxInFlight: { slow: 1 } });
  const signal = new AbortController().signal;
  const s1 = await a.acquire('slow', signal);
  const s2 = a.acquire('slow', signal);
  const f1 = await a.acquire('fast', signal);
  assert.equal(a.state.inFlight, 2);
  assert.equal(a.state.queued, 1);
  s1();
  (await s2)();
  f1();
  assert.equal(a.state.inFlight, 0);
});

test('a client that leaves while queued is removed from the queue', async () => {
  const a = new AdmissionController({ ...limits, maxInFlight: 1 });
  await a.acquire('m', new AbortController().signal);
  const controller = new AbortController();
  const waiting = a.acquire('m', controller.signal);
  controller.abort();
  await assert.rejects(waiting, (err: unknown) => err instanceof GatewayError && err.code === 'client_cancelled');
  assert.equal(a.state.queued, 0);
});

test('raising the limits releases queued requests at once, without waiting for a release', async () => {
  const a = new AdmissionController({ ...limits, maxInFlight: 1, queueTimeoutMs: 60_000 });
  const signal = new AbortController().signal;
  const held = await a.acquire('m', signal);
  const queued = a.acquire('m', signal);
  assert.equal(a.state.queued, 1);
  // The slot is still held: only the new limit can let the queued request in (the runbook's
  // "raise maxInFlight" must help the requests already waiting, not just the next ones).
  a.setLimits({ ...limits, maxInFlight: 2, queueTimeoutMs: 60_000 });
  assert.equal(a.state.queued, 0, 'the waiter left the queue');
  assert.equal(a.state.inFlight, 2, 'and holds a slot next to the one still held');
  const release = await queued;
  release();
  held();
  assert.equal(a.state.inFlight, 0);
});
