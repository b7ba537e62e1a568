import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { GRPCInferenceServiceClient } from '../../src/triton/generated/grpc_service.js';
import { DataType } from '../../src/triton/generated/model_config.js';
import { HealthCheckResponse_ServingStatus, HealthClient, type HealthCheckResponse } from '../../src/triton/generated/health.js';
import { connect, runStream, trtllmRequest, unary } from './sim-client.js';

describe('server and model discovery RPCs', () => {
  let sim: RunningSimulator;
  let client: GRPCInferenceServiceClient;
  before(async () => {
    sim = await startSimulator({
      models: [
        { name: 'ens', flavour: 'ensemble', maxBatchSize: 64, parameters: { engine_hash: 'sha256:abc', quantisation: 'fp8' } },
        { name: 'bls', flavour: 'tensorrt_llm_bls' },
        { name: 'vllm', flavour: 'vllm' },
        { name: 'ident', flavour: 'identity' },
      ],
    });
    client = connect(sim.grpcAddress);
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  test('ServerLive, ServerReady and ServerMetadata', async () => {
    assert.deepEqual(await unary(client, 'serverLive', {}), { live: true });
    assert.deepEqual(await unary(client, 'serverReady', {}), { ready: true });
    const meta = await unary(client, 'serverMetadata', {});
    assert.equal(meta.name, 'triton');
    assert.ok(meta.extensions.includes('model_repository'));
    assert.ok(meta.extensions.includes('statistics'));
  });

  test('grpc.health.v1 Check follows server readiness', async () => {
    const health = new HealthClient(sim.grpcAddress, credentials.createInsecure());
    try {
      const check = () =>
        new Promise<HealthCheckResponse>((resolve, reject) => health.check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res))));
      assert.equal((await check()).status, HealthCheckResponse_ServingStatus.SERVING);
      sim.setServerReady(false);
      assert.equal((await check()).status, HealthCheckResponse_ServingStatus.NOT_SERVING);
      assert.deepEqual(await unary(client, 'serverReady', {}), { ready: false });
      // Inference is refused while not ready, as Triton's core does.
      const refused = await runStream(client, [trtllmRequest('ens', 'r', { prompt: 'hello there', maxTokens: 2 })]);
      assert.equal(refused.responses.length, 1);
      assert.equal(refused.responses[0]!.errorMessage, 'Server not ready');
    } finally {
      sim.setServerReady(true);
      health.close();
    }
  });

  test('ModelReady: true for a served model, NOT_FOUND status for an unknown one', async () => {
    assert.deepEqual(await unary(client, 'modelReady', { name: 'ens', version: '' }), { ready: true });
    const err = (await unary(client, 'modelReady', { name: 'nope', version: '' }).catch((e: unknown) => e)) as ServiceError;
    assert.equal(err.code, status.NOT_FOUND);
    assert.equal(err.details, "Request for unknown model: 'nope' is not found");
    const v = (await unary(client, 'modelReady', { name: 'ens', version: '7' }).catch((e: unknown) => e)) as ServiceError;
    assert.equal(v.code, status.NOT_FOUND);
    assert.equal(v.details, "Request for unknown model: 'ens' version 7 is not found");
  });

  test('ModelMetadata adds the -1 batch dim when max_batch_size >= 1 and falls back to backend for platform', async () => {
    const ens = await unary(client, 'modelMetadata', { name: 'ens', version: '' });
    assert.equal(ens.platform, 'ensemble');
    assert.deepEqual(ens.versions, ['1']);
    const textInput = ens.inputs.find((t) => t.name === 'text_input')!;
    assert.deepEqual([textInput.datatype, textInput.shape], ['BYTES', [-1, 1]]);
    assert.deepEqual(ens.inputs.find((t) => t.name === 'seed')!.datatype, 'UINT64');
    assert.deepEqual(ens.outputs.find((t) => t.name === 'arrival_time_ns')!.datatype, 'INT64');
    const vllm = await unary(client, 'modelMetadata', { name: 'vllm', version: '' });
    assert.equal(vllm.platform, 'vllm');
    assert.deepEqual(vllm.inputs.find((t) => t.name === 'text_input')!.shape, [1]);
    const bls = await unary(client, 'modelMetadata', { name: 'bls', version: '' });
    assert.equal(bls.platform, 'python');
  });

  test('ModelConfig: decoupled flag, batching, upstream tensor names and types, the duplicate output, parameters', async () => {
    const { config } = await unary(client, 'modelConfig', { name: 'ens', version: '' });
    assert.ok(config);
    assert.equal(config.platform, 'ensemble');
    assert.equal(config.maxBatchSize, 64);
    assert.equal(config.modelTransactionPolicy?.decoupled, true);
    const input = (n: string) => config.input.find((t) => t.name === n);
    assert.equal(input('text_input')?.dataType, DataType.TYPE_STRING);
    assert.equal(input('text_input')?.optional, false);
    assert.equal(input('max_tokens')?.dataType, DataType.TYPE_INT32);
    assert.equal(input('stream')?.dataType, DataType.TYPE_BOOL);
    assert.deepEqual(input('stop_words')?.dims, [-1]);
    assert.equal(input('return_num_output_tokens')?.optional, true);
    assert.equal(config.output.filter((o) => o.name === 'kv_cache_alloc_total_blocks').length, 2);
    assert.equal(config.parameters.engine_hash?.stringValue, 'sha256:abc');
    assert.equal(config.parameters.quantisation?.stringValue, 'fp8');
    assert.ok(config.ensembleScheduling?.step.some((s) => s.modelName === 'tensorrt_llm'));

    const vllm = (await unary(client, 'modelConfig', { name: 'vllm', version: '' })).config!;
    assert.equal(vllm.backend, 'vllm');
    assert.equal(vllm.maxBatchSize, 0);
    assert.equal(vllm.modelTransactionPolicy?.decoupled, true);
    assert.equal(vllm.input.find((t) => t.name === 'sampling_parameters')?.dataType, DataType.TYPE_STRING);
    assert.equal(vllm.output.find((t) => t.name === 'num_output_tokens')?.dataType, DataType.TYPE_UINT32);
    const ident = (await unary(client, 'modelConfig', { name: 'ident', version: '' })).config!;
    assert.equal(ident.modelTransactionPolicy?.decoupled, false);
  });

  test('ModelStatistics counts successes, failures and executions per model version', async () => {
    await runStream(client, [
      trtllmRequest('bls', 's1', { prompt: 'one', maxTokens: 2 }),
      trtllmRequest('bls', 's2', { prompt: 'two', maxTokens: 2 }),
    ]);
    const bad = trtllmRequest('bls', 's3', { prompt: 'three', maxTokens: 2 });
    bad.rawInputContents[1] = Buffer.alloc(1);
    await runStream(client, [bad]);
    const { modelStats } = await unary(client, 'modelStatistics', { name: 'bls', version: '' });
    assert.equal(modelStats.length, 1);
    const s = modelStats[0]!;
    assert.equal(s.version, '1');
    assert.equal(s.inferenceStats?.success?.count, 2);
    assert.equal(s.inferenceStats?.fail?.count, 1);
    assert.equal(s.executionCount, 2);
    assert.equal(s.inferenceCount, 2);
    assert.ok(s.lastInference > 0);
    const all = await unary(client, 'modelStatistics', { name: '', version: '' });
    assert.equal(all.modelStats.length, 4);
  });
});
