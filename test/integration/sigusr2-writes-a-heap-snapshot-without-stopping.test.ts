/**
 * SIGUSR2 is for heap snapshots (`node --heapsnapshot-signal=SIGUSR2`), not for shutdown: a real
 * gateway process started with that flag writes a snapshot, keeps answering, and still drains
 * and exits 0 on SIGTERM afterwards. close-with-grace treats SIGUSR2 as a shutdown signal by
 * default, which stopped the gateway when someone asked it for a snapshot.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { eventually } from '../helpers/stack.js';

let sim: RunningSimulator;
before(async () => {
  sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
});
after(async () => sim.stop());

test('SIGUSR2 writes a heap snapshot and the gateway keeps serving; SIGTERM still drains and exits 0', async () => {
  const gw = await startGatewayProcess({ simGrpc: sim.grpcAddress, drainSeconds: 1, nodeArgs: (dir) => ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] });
  const { url, child, dir } = gw;
  const snapshots = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
  try {
    child.kill('SIGUSR2');
    // Written synchronously on the main thread: once the gateway answers again, the file is complete.
    await eventually(() => snapshots().length === 1, 30_000, 'a heap snapshot in the diagnostic dir');
    await eventually(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 30_000, '/readyz 200 after the snapshot');
    assert.ok(statSync(join(dir, snapshots()[0]!)).size > 1_000_000, 'the snapshot is not empty');
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama-3-8b', prompt: 'still there?', max_tokens: 4 }),
    });
    assert.equal(res.status, 200);
    assert.equal(child.exitCode, null, 'the gateway exited on SIGUSR2');
    assert.doesNotMatch(gw.output(), /"msg":"draining"/);

    child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.output());
    assert.match(gw.output(), /"signal":"SIGTERM"[^\n]*"msg":"draining"/);
  } finally {
    gw.kill();
  }
});
