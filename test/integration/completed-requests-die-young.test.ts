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

/**
 * One request at a time: what is measured is what a finished request leaves behind. With several
 * in flight a second promotion shows, which this test does not cover (bench/README.md, "Promotion").
 */
async function send(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await complete(i);
}

test('completed requests are not promoted to the old generation', async (t) => {
  await send(WARMUP);
  const from = gateway.output().length;
  await send(MEASURED);
  const gc = sumGcTrace(gateway.output().slice(from));
  const promotedPerRequest = gc.promoted / MEASURED;
  t.diagnostic(`${promotedPerRequest.toFixed(0)} bytes promoted per request, ${gc.scavenges} scavenges, mean pause ${(gc.scavengePauseMs / Math.max(1, gc.scavenges)).toFixed(2)} ms`);
  assert.ok(gc.scavenges >= 3, `too few scavenges to judge (${gc.scavenges}); the trace: ${gateway.output().slice(from, from + 2000)}`);
  assert.ok(
    promotedPerRequest < 1_500,
    `${promotedPerRequest.toFixed(0)} bytes promoted per request over ${gc.scavenges} scavenges (${(gc.allocated / MEASURED / 1000).toFixed(1)} KB allocated per request)`,
  );
});
