/**
 * The bare relay of bench/relay-floor.ts against the simulator over real gRPC: it answers a
 * non-streamed completion with the generated text, relays every token of a stream as one SSE
 * chunk ending in [DONE], and cancels the Triton call when the client leaves, so the floor it
 * measures is a relay that works.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { startBareRelay, type BareRelay } from '../../bench/lib/bare-relay.js';
import { tritonModel } from '../../bench/lib/bench-stack.js';
import { completionClient } from '../../bench/lib/gateway-client.js';
import { startSim, type SimProcess } from '../../bench/lib/processes.js';
import { StreamTimings } from '../../bench/lib/stream-timings.js';

let workDir: string;
let sim: SimProcess;
let relay: BareRelay;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'bare-relay-'));
  sim = await startSim({ runtime: 'tsx', workDir, ttftMs: 1, tpotMs: 1 });
  relay = await startBareRelay(sim.grpcAddress, tritonModel);
});

after(async () => {
  await relay?.stop();
  await sim?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

test('answers a non-streamed completion with the text the simulator generated', async () => {
  const res = await fetch(`${relay.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', prompt: 'Say something', max_tokens: 6 }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { choices: Array<{ text: string }> };
  assert.ok(body.choices[0]!.text.trim().length > 0, `no text: ${JSON.stringify(body)}`);
});

test('relays each token of a stream as its own chunk and ends with [DONE]', async () => {
  const client = completionClient(relay.url, 'm', { maxTokens: 6, streamTokens: 8 });
  const timings = new StreamTimings();
  try {
    await client.stream(0, performance.now(), timings, 8);
  } finally {
    client.close();
  }
  assert.equal(timings.arrivals.length, 8);
  assert.equal(timings.open, 0);
});

test('a generation Triton refuses is a 502, not a hang', async () => {
  const res = await fetch(`${relay.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', prompt: 'x', max_tokens: -1 }),
  });
  assert.equal(res.status, 502);
  await res.text();
});

async function simCancellations(): Promise<number> {
  const state = (await (await fetch(`${sim.httpUrl}/control/state`)).json()) as { models: Record<string, { cancellations: number }> };
  return state.models[tritonModel]!.cancellations;
}

test('a client that leaves mid-stream cancels the call on the simulator', async () => {
  const before = await simCancellations();
  const body = JSON.stringify({ model: 'm', prompt: 'Tell a long story', max_tokens: 2000, stream: true });
  await new Promise<void>((resolve, reject) => {
    const req = request(`${relay.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end(body);
  });
  const until = Date.now() + 5_000;
  while ((await simCancellations()) === before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await simCancellations(), before + 1);
});
