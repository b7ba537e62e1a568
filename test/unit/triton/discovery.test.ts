import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { datatypeName, detectFlavour, NotAnLlmModelError, schemaFromConfig } from '../../../src/triton/discovery.js';
import { ModelMetadataResponse } from '../../../src/triton/generated/grpc_service.js';
import { DataType, ModelConfig } from '../../../src/triton/generated/model_config.js';
import type { TensorSpec } from '../../../src/triton/types.js';
import { identityConfig, llmapiConfig, trtllmEnsembleConfig, vllmConfig } from '../../fixtures/model-configs.js';

const specs = (...names: string[]) => new Map<string, TensorSpec>(names.map((n) => [n, { name: n, datatype: 'BYTES', dims: [1], optional: false }]));

describe('detectFlavour', () => {
  it('sampling_parameters input -> vllm', () => {
    assert.equal(schemaFromConfig(vllmConfig()).flavour, 'vllm');
  });

  it('sampling_param_* inputs -> trtllm-llmapi', () => {
    assert.equal(schemaFromConfig(llmapiConfig()).flavour, 'trtllm-llmapi');
  });

  it('text_input + max_tokens with a batch dim -> trtllm', () => {
    assert.equal(schemaFromConfig(trtllmEnsembleConfig()).flavour, 'trtllm');
  });

  it('text_input + max_tokens without a batch dim is refused', () => {
    assert.throws(() => detectFlavour('m', specs('text_input', 'max_tokens'), specs('text_output'), 0), NotAnLlmModelError);
  });

  it('a model without text_input / text_output is not an LLM model', () => {
    assert.throws(() => schemaFromConfig(identityConfig()), (err: unknown) => err instanceof NotAnLlmModelError && /identity/.test(err.message) && /text_input/.test(err.message));
    assert.throws(() => detectFlavour('m', specs('text_input', 'sampling_parameters'), specs('OUTPUT0'), 0), /text_output/);
    // TRT-LLM's own `tensorrt_llm` step takes token ids, not text.
    assert.throws(() => detectFlavour('tensorrt_llm', specs('input_ids', 'request_output_len'), specs('output_ids'), 8), NotAnLlmModelError);
  });

  it('text_input alone (a mock echo model) is not an LLM model', () => {
    assert.throws(() => detectFlavour('mock_llm', specs('text_input', 'stream'), specs('text_output'), 0), /no known backend/);
  });
});

describe('schemaFromConfig', () => {
  it('reads batch size, decoupled, dtypes as protocol strings, dims without batch, optional, parameters', () => {
    const s = schemaFromConfig(trtllmEnsembleConfig());
    assert.equal(s.name, 'ensemble');
    assert.equal(s.platform, 'ensemble');
    assert.equal(s.maxBatchSize, 64);
    assert.equal(s.decoupled, true);
    assert.deepEqual(s.inputs.get('text_input'), { name: 'text_input', datatype: 'BYTES', dims: [1], optional: false });
    assert.deepEqual(s.inputs.get('seed'), { name: 'seed', datatype: 'UINT64', dims: [1], optional: true });
    assert.equal(s.inputs.get('stop_words')?.datatype, 'BYTES');
    assert.deepEqual(s.inputs.get('stop_words')?.dims, [-1]);
    assert.equal(s.outputs.get('arrival_time_ns')?.datatype, 'INT64');
    assert.deepEqual(s.parameters, { engine_hash: 'abc123' });
    assert.deepEqual(s.versions, []);
  });

  it('dedupes the duplicate kv_cache_alloc_total_blocks output', () => {
    const config = trtllmEnsembleConfig();
    assert.equal(config.output.filter((o) => o.name === 'kv_cache_alloc_total_blocks').length, 2);
    const s = schemaFromConfig(config);
    assert.equal([...s.outputs.keys()].filter((n) => n === 'kv_cache_alloc_total_blocks').length, 1);
  });

  it('takes the ready versions from ModelMetadata and the queue delay from dynamic batching', () => {
    const s = schemaFromConfig(vllmConfig(), ModelMetadataResponse.fromPartial({ name: 'qwen3', versions: ['1', '2'], platform: 'vllm' }));
    assert.deepEqual(s.versions, ['1', '2']);
    assert.equal(s.maxQueueDelayMicros, 100);
    assert.equal(s.decoupled, true);
    assert.equal(s.maxBatchSize, 0);
  });

  it('a config without transaction policy is not decoupled', () => {
    const c = ModelConfig.fromPartial({ ...trtllmEnsembleConfig(), modelTransactionPolicy: undefined });
    assert.equal(schemaFromConfig(c).decoupled, false);
  });
});

describe('datatypeName', () => {
  it('maps the config enum to protocol strings', () => {
    assert.equal(datatypeName(DataType.TYPE_STRING), 'BYTES');
    assert.equal(datatypeName(DataType.TYPE_BOOL), 'BOOL');
    assert.equal(datatypeName(DataType.TYPE_UINT64), 'UINT64');
    assert.equal(datatypeName(DataType.TYPE_FP32), 'FP32');
    assert.equal(datatypeName(DataType.TYPE_BF16), 'BF16');
    assert.equal(datatypeName(DataType.TYPE_INVALID), 'INVALID');
  });
});
