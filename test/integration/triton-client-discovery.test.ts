/**
 * Discovery, health and admin calls against the simulator's default model set, and round_robin
 * over two simulators behind one address-list target.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GatewayError } from '../../src/errors.js';
import { TritonClient } from '../../src/triton/client.js';
import { describeModel, discoverModels, listLlmModels, NotAnLlmModelError } from '../../src/triton/discovery.js';
import { startSimulator } from '../../sim/index.js';
import { collect, rejectsWith, request, startHarness } from '../helpers/triton-client-harness.js';

const h = await startHarness();

describe('discovery', () => {
  it('finds every LLM flavour of the default set and skips the non-decoupled identity model', async () => {
    const d = await discoverModels(h.client);
    const found = Object.fromEntries(d.models.map((m) => [m.name, m.flavour]));
    assert.deepEqual(found, {
      'llama-3-8b-bls': 'trtllm',
      'llama-3-8b-llmapi': 'trtllm-llmapi',
      'llama-3-8b-trtllm': 'trtllm',
      'qwen3-vllm': 'vllm',
    });
    assert.deepEqual(
      d.skipped.map((s) => s.name),
      ['tiny-identity'],
    );
    assert.deepEqual((await listLlmModels(h.client)).map((m) => m.name), d.models.map((m) => m.name));
  });

  it('describes the ensemble from its config: batch dim, decoupled, deduped outputs, parameters, versions', async () => {
    const s = await describeModel(h.client, 'llama-3-8b-trtllm');
    assert.equal(s.maxBatchSize, 64);
    assert.equal(s.decoupled, true);
    assert.equal(s.platform, 'ensemble');
    assert.deepEqual(s.versions, ['1']);
    assert.equal(s.parameters.engine_hash, 'sha256:7c1e2a9b44d0');
    assert.deepEqual(s.inputs.get('seed'), { name: 'seed', datatype: 'UINT64', dims: [1], optional: true });
    assert.ok(s.outputs.has('kv_cache_alloc_total_blocks'));
    const config = await h.client.modelConfig('llama-3-8b-trtllm');
    assert.equal(config.output.filter((o) => o.name === 'kv_cache_alloc_total_blocks').length, 2, 'the sim reproduces the upstream duplicate');
    const vllm = await describeModel(h.client, 'qwen3-vllm');
    assert.equal(vllm.maxBatchSize, 0);
    assert.equal(vllm.outputs.get('num_input_tokens')?.datatype, 'UINT32');
  });

  it('refuses to describe a non-LLM model as one', async () => {
    await assert.rejects(describeModel(h.client, 'tiny-identity'), NotAnLlmModelError);
  });

  it('a model Triton does not have is model_not_ready', async () => {
    await rejectsWith(describeModel(h.client, 'ghost'), 'model_not_ready');
  });
});

describe('health and admin', () => {
  it('server live/ready, health check and model ready follow the server', async () => {
    assert.equal(await h.client.serverLive(), true);
    assert.equal(await h.client.serverReady(), true);
    assert.equal(await h.client.healthCheck(), 'SERVING');
    assert.equal(await h.client.modelReady('qwen3-vllm'), true);
    h.sim.setServerReady(false);
    try {
      assert.equal(await h.client.serverReady(), false);
      assert.equal(await h.client.healthCheck(), 'NOT_SERVING');
    } finally {
      h.sim.setServerReady(true);
    }
    assert.equal(await h.client.healthCheck(), 'SERVING');
  });

  it('server metadata, repository index and statistics', async () => {
    const meta = await h.client.serverMetadata();
    assert.equal(meta.name, 'triton');
    const index = await h.client.repositoryIndex(true);
    assert.ok(index.some((m) => m.name === 'qwen3-vllm' && m.state === 'READY'));
    await collect(h.client.infer(await describeModel(h.client, 'qwen3-vllm'), request({ maxTokens: 2 })));
    const stats = await h.client.modelStatistics('qwen3-vllm');
    assert.equal(stats[0]?.name, 'qwen3-vllm');
    assert.ok((stats[0]?.inferenceCount ?? 0) >= 1);
    // Cumulative nanoseconds arrive as an exact decimal string (uint64, beyond 2^53 on busy servers).
    assert.ok(BigInt(stats[0]?.inferenceStats?.success?.ns ?? '0') > 0n);
  });

  it('unload then load a model; the ready-only index follows', async () => {
    await h.client.unloadModel('llama-3-8b-bls');
    try {
      assert.ok(!(await h.client.repositoryIndex(true)).some((m) => m.name === 'llama-3-8b-bls'));
      await rejectsWith(h.client.modelReady('llama-3-8b-bls'), 'model_not_ready');
      assert.ok(!(await listLlmModels(h.client)).some((m) => m.name === 'llama-3-8b-bls'));
    } finally {
      await h.client.loadModel('llama-3-8b-bls');
    }
    assert.equal(await h.client.modelReady('llama-3-8b-bls'), true);
  });

  it('admin calls to a dead target fail fast as upstream_unavailable or upstream_timeout', async () => {
    const dead = new TritonClient({ target: '127.0.0.1:1', adminDeadlineMs: 300 });
    try {
      await assert.rejects(dead.serverReady(), (err: unknown) => {
        assert.ok(err instanceof GatewayError);
        assert.ok(['upstream_unavailable', 'upstream_timeout'].includes(err.code), err.code);
        assert.equal(err.upstreamFault, true);
        return true;
      });
    } finally {
      dead.close();
    }
  });
});

describe('round_robin over an address list', () => {
  it('spreads requests over both simulators behind one target', async () => {
    const a = await startSimulator();
    const b = await startSimulator();
    const client = new TritonClient({ target: `${a.grpcAddress},${b.grpcAddress}` });
    after(async () => {
      client.close();
      await Promise.all([a.stop(), b.stop()]);
    });
    const schema = await describeModel(client, 'qwen3-vllm');
    for (let i = 0; i < 20; i++) await collect(client.infer(schema, request({ maxTokens: 1 })));
    const onA = a.received().filter((r) => r.transport === 'grpc-stream').length;
    const onB = b.received().filter((r) => r.transport === 'grpc-stream').length;
    assert.equal(onA + onB, 20);
    assert.ok(onA > 0 && onB > 0, `both replicas should receive requests (a=${onA}, b=${onB})`);
  });
});
