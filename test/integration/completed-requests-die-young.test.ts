/**
 * A completed request's objects die young: V8's scavenges free them instead of promoting them
 * into the old generation, where only a full GC frees them and every scavenge pays to copy
 * them first. The gateway runs as a child process under `--trace-gc-nvp`, whose scavenge lines
 * report the bytes promoted; the test sends non-streamed completions one after another and divides.
 *
 * What this guards: each attempt's relay was an async generator function written inside
 * GenerationRouter.start(), a new function per attempt. V8 gives each generator function its
 * own map on first call, in the old generation, and the map's constructor slot kept the
 * closure, and the whole request it captured, alive through scavenges (src/inference/attempt.ts).
 * Measured here: ~4.9 KB promoted per request with the relay written back as such a closure,
 * ~0.5 KB without.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sumGcTrace } from '../../bench/lib/gc-trace.js';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const WARMUP = 400;
const MEASURED = 1_600;

let sim: RunningSimulator;
let gateway: GatewayProcess;

before(async () => {
  sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
  gateway = await startGatewayProcess({ simGrpc: sim.grpcAddress, drainSeconds: 1, nodeArgs: () => ['--trace-gc-nvp'] });
});

after(async () => {
  gateway?.kill();
  await sim?.stop();
});

async function complete(i: number): Promise<void> {
  const res = await fetch(`${gateway.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama-3-8b', prompt: `request ${i}: say something`, max_tokens: 16 }),
  });
  const body = await res.text();
  assert.equal(res.status, 200, body);
}

/** `count` completions, `inFlight` at a time (a closed loop). */
async function send(count: number, inFlight = 1): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await complete(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

function promotedPerRequest(t: { diagnostic(message: string): void }, from: number, requests: number): number {
  const gc = sumGcTrace(gateway.output().slice(from));
  const perRequest = gc.promoted / requests;
  t.diagnostic(`${perRequest.toFixed(0)} bytes promoted per request, ${gc.scavenges} scavenges, mean pause ${(gc.scavengePauseMs / Math.max(1, gc.scavenges)).toFixed(2)} ms`);
  assert.ok(gc.scavenges >= 3, `too few scavenges to judge (${gc.scavenges}); the trace: ${gateway.output().slice(from, from + 2000)}`);
  return perRequest;
}

test('completed requests are not promoted to the old generation', async (t) => {
  await send(WARMUP);
  const from = gateway.output().length;
  await send(MEASURED);
  const promoted = promotedPerRequest(t, from, MEASURED);
  assert.ok(promoted < 1_500, `${promoted.toFixed(0)} bytes promoted per request, one at a time`);
});

/**
 * With several calls in flight, grpc-js's and Node's per-connection tables of calls (a Set, a
 * Map, a Set) are where the requests were kept alive: their replaced hash tables chain to their
 * successors once one is in old space (src/triton/flat-call-tables.ts). Measured here: 5–9 KB
 * per request with those tables, ~0.5 KB with the array tables.
 */
test('with four requests in flight, completed requests are not promoted either', async (t) => {
  await send(WARMUP, 4);
  const from = gateway.output().length;
  await send(2 * MEASURED, 4);
  const promoted = promotedPerRequest(t, from, 2 * MEASURED);
  assert.ok(promoted < 1_500, `${promoted.toFixed(0)} bytes promoted per request, four at a time`);
});
