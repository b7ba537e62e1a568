import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadModelsFile, startSimulator } from '../../sim/index.js';
import { connect, runStream, trtllmRequest, unary } from './sim-client.js';

describe('models files and the triton-sim process', () => {
  test('the shipped example files load, with one model of each flavour in the default set', () => {
    const models = loadModelsFile('examples/sim-models/default.yaml');
    assert.deepEqual(
      models.map((m) => [m.name, m.flavour]),
      [
        ['llama-3-8b-trtllm', 'ensemble'],
        ['llama-3-8b-bls', 'tensorrt_llm_bls'],
        ['qwen3-vllm', 'vllm'],
        ['tiny-identity', 'identity'],
        ['llama-3-8b-llmapi', 'llmapi'],
      ],
    );
    assert.equal(models[0]!.parameters?.engine_hash, 'sha256:7c1e2a9b44d0');
    assert.ok(loadModelsFile('examples/sim-models/faults-and-versions.yaml').length > 0);
  });

  test('listens on an IPv6 host, and names it with brackets', async (t) => {
    const v6 = createServer();
    const available = await new Promise<boolean>((resolve) => v6.once('error', () => resolve(false)).listen(0, '::1', () => v6.close(() => resolve(true))));
    if (!available) return t.skip('no IPv6 loopback on this machine');
    const sim = await startSimulator({ host: '::1' });
    const client = connect(sim.grpcAddress);
    try {
      assert.match(sim.grpcAddress, /^\[::1\]:\d+$/);
      const index = await unary(client, 'repositoryIndex', { repositoryName: '', ready: true });
      assert.ok(index.models.length > 0);
    } finally {
      client.close();
      await sim.stop();
    }
  });

  test('a models file with a typo is refused with every problem listed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-config-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'models:\n  - name: m\n    flavour: trtllm\n    maxBatchSise: 4\n');
      assert.throws(() => loadModelsFile(file), (err: Error) => /flavour/.test(err.message) && /maxBatchSise/.test(err.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('startSimulator serves a models file, and the in-code default set when given nothing', async () => {
    const fromFile = await startSimulator({ modelsFile: 'examples/sim-models/faults-and-versions.yaml', latency: { timeToFirstTokenMs: 0, timePerTokenMs: 0 } });
    const client = connect(fromFile.grpcAddress);
    try {
      const index = await unary(client, 'repositoryIndex', { repositoryName: '', ready: true });
      assert.ok(index.models.some((m) => m.name === 'flaky-vllm'));
      const r = await runStream(client, [trtllmRequest('llama-3-8b-trtllm', 'f', { prompt: 'hi', maxTokens: 2 })]);
      assert.equal(r.responses.find((x) => x.inferResponse?.outputs.length)?.inferResponse?.modelVersion, '2');
    } finally {
      client.close();
      await fromFile.stop();
    }
    const defaults = await startSimulator({});
    try {
      assert.deepEqual(Object.keys(defaults.state().models), ['llama-3-8b-trtllm', 'llama-3-8b-bls', 'qwen3-vllm', 'tiny-identity', 'llama-3-8b-llmapi']);
      assert.match(defaults.grpcAddress, /^127\.0\.0\.1:\d+$/);
      assert.match(defaults.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(defaults.metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    } finally {
      await defaults.stop();
    }
  });

  test('triton-sim --help documents every flag', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sim/bin.ts', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    for (const flag of ['--host', '--grpc-port', '--http-port', '--metrics-port', '--models', '--seed', '--queue-delay-ms', '--ttft-ms', '--prefill-ms-per-token', '--tpot-ms', '--fault', '--log-requests', '--help']) {
      assert.ok(out.includes(flag), `--help mentions ${flag}`);
    }
    assert.match(out, /default 8001/);
  });

  test('triton-sim prints one ready line with its addresses, applies --fault and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'sim/bin.ts', '--grpc-port', '0', '--http-port', '0', '--metrics-port', '0', '--fault', 'qwen3-vllm={"kind":"hang"}'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const m = /^triton-sim ready grpc=(127\.0\.0\.1:\d+) http=(http:\/\/127\.0\.0\.1:\d+) metrics=(http:\/\/127\.0\.0\.1:\d+\/metrics)$/.exec(line);
      assert.ok(m, line);
      const state = (await (await fetch(`${m[2]}/control/state`)).json()) as { models: Record<string, { fault: { kind: string } | null }> };
      assert.equal(state.models['qwen3-vllm']!.fault?.kind, 'hang');
      assert.equal((await fetch(m[3]!)).status, 200);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
