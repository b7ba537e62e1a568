/**
 * Graceful shutdown with a real child process: on SIGTERM, /readyz turns 503, new requests are
 * refused, the in-flight stream finishes with [DONE], and the process exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

test('SIGTERM drains the in-flight stream, refuses new requests and exits 0', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gw-drain-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(
    configPath,
    stringify({
      server: { host: '127.0.0.1', port },
      triton: { targets: [{ name: 'primary', grpc: sim.grpcAddress }], healthIntervalMs: 200 },
      models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm' }],
      shutdown: { drainSeconds: 10 },
    }),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, GATEWAY_EVENT_LOG: join(dir, 'events.jsonl'), GATEWAY_CONFIG: configPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, 20_000);
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
    assert.equal(await exited, 0, output);
    assert.match(output, /"msg":"draining"/);
  } finally {
    sim.clearFaults();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
