/**
 * SIGUSR2 is for heap snapshots (`node --heapsnapshot-signal=SIGUSR2`), not for shutdown: a real
 * gateway process started with that flag writes a snapshot, keeps answering, and still drains
 * and exits 0 on SIGTERM afterwards. close-with-grace treats SIGUSR2 as a shutdown signal by
 * default, which stopped the gateway when someone asked it for a snapshot.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import { freePort } from '../helpers/free-port.js';
import { eventually, waitReady } from '../helpers/stack.js';

let sim: RunningSimulator;
before(async () => {
  sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
});
after(async () => sim.stop());

test('SIGUSR2 writes a heap snapshot and the gateway keeps serving; SIGTERM still drains and exits 0', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gw-usr2-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(
    configPath,
    stringify({
      server: { host: '127.0.0.1', port },
      triton: { targets: [{ name: 'primary', grpc: sim.grpcAddress }], healthIntervalMs: 200 },
      models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm' }],
      shutdown: { drainSeconds: 1 },
    }),
  );
  const child = spawn(process.execPath, ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`, '--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, GATEWAY_EVENT_LOG: join(dir, 'events.jsonl'), GATEWAY_CONFIG: configPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const snapshots = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
  try {
    await waitReady(url, 20_000);
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
    assert.doesNotMatch(output, /"msg":"draining"/);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /"signal":"SIGTERM"[^\n]*"msg":"draining"/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
