/**
 * Graceful shutdown with a real child process: on SIGTERM, /readyz turns 503, new requests are
 * refused, the in-flight stream finishes with [DONE], and the process exits 0.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { eventually } from '../helpers/stack.js';

let sim: RunningSimulator;
before(async () => {
  sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
});
after(async () => sim.stop());

test('SIGTERM drains the in-flight stream, refuses new requests and exits 0', async () => {
  const gw = await startGatewayProcess({ simGrpc: sim.grpcAddress, drainSeconds: 10 });
  const { url, child } = gw;
  try {
    sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 40 });
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama-3-8b', prompt: 'drain me', max_tokens: 25, stream: true }),
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let body = new TextDecoder().decode((await reader.read()).value);

    child.kill('SIGTERM');
    await eventually(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 503, 3000, '/readyz to turn 503');
    const refused = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama-3-8b', prompt: 'too late', max_tokens: 2 }),
    });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'shutting_down');

    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      body += new TextDecoder().decode(value);
    }
    assert.match(body, /data: \[DONE\]\n\n$/, 'the in-flight stream finished');
    assert.equal(await gw.exited, 0, gw.output());
    assert.match(gw.output(), /"msg":"draining"/);
  } finally {
    sim.clearFaults();
    gw.kill();
  }
});
