/**
 * ModelConfig and ModelMetadata answers, built the way Triton builds them from a model's
 * config (shared/triton-protocol.md §2.1, §2.7).
 */
import {
  ModelInput_Format,
  ModelInstanceGroup_Kind,
  ModelQueuePolicy_TimeoutAction,
  type ModelConfig,
} from '../../src/triton/generated/model_config.js';
import type { ModelMetadataResponse } from '../../src/triton/generated/grpc_service.js';
import { toConfigDataType } from '../protocol/datatypes.js';
import { parametersFor, type ModelDefinition } from './model-definition.js';

export function buildModelConfig(model: ModelDefinition, version: number): ModelConfig {
  const def = model.flavourDef;
  const params = parametersFor(model, version);
  const config: ModelConfig = {
    name: model.name,
    platform: def.platform,
    maxBatchSize: model.maxBatchSize,
    input: model.inputs.map((t) => ({
      name: t.name,
      dataType: toConfigDataType(t.datatype),
      format: ModelInput_Format.FORMAT_NONE,
      dims: t.dims,
      reshape: undefined,
      isShapeTensor: false,
      allowRaggedBatch: false,
      optional: t.optional,
      isNonLinearFormatIo: false,
    })),
    output: model.outputs.map((t) => ({
      name: t.name,
      dataType: toConfigDataType(t.datatype),
      dims: t.dims,
      labelFilename: '',
      reshape: undefined,
      isShapeTensor: false,
      isNonLinearFormatIo: false,
    })),
    instanceGroup: [
      {
        name: `${model.name}_0`,
        count: 1,
        gpus: def.instanceKind === 'KIND_GPU' ? model.gpus : [],
        kind: ModelInstanceGroup_Kind[def.instanceKind],
      },
    ],
    defaultModelFilename: '',
    metricTags: model.metricTags,
    dynamicBatching: undefined,
    ensembleScheduling: undefined,
    parameters: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { stringValue: v }])),
    backend: def.backend,
    modelTransactionPolicy: { decoupled: model.decoupled },
    responseCache: undefined,
    runtime: '',
  };
  if (model.flavour === 'ensemble') {
    config.ensembleScheduling = {
      maxInflightRequests: 0,
      step: [
        step('preprocessing', { QUERY: 'text_input', REQUEST_OUTPUT_LEN: 'max_tokens' }, { INPUT_ID: '_INPUT_ID', REQUEST_INPUT_LEN: '_REQUEST_INPUT_LEN' }),
        step('tensorrt_llm', { input_ids: '_INPUT_ID', input_lengths: '_REQUEST_INPUT_LEN', streaming: 'stream' }, { output_ids: '_TOKENS_BATCH', sequence_length: '_SEQUENCE_LENGTH' }),
        step('postprocessing', { TOKENS_BATCH: '_TOKENS_BATCH', SEQUENCE_LENGTH: '_SEQUENCE_LENGTH' }, { OUTPUT: 'text_output' }),
      ],
    };
  } else {
    config.dynamicBatching = {
      preferredBatchSize: [],
      maxQueueDelayMicroseconds: Math.round(model.latency.queueDelayMs * 1000),
      preserveOrdering: false,
      priorityLevels: 0,
      defaultPriorityLevel: 0,
      defaultQueuePolicy: {
        timeoutAction: ModelQueuePolicy_TimeoutAction.REJECT,
        defaultTimeoutMicroseconds: 0,
        allowTimeoutOverride: false,
        maxQueueSize: model.maxQueueSize,
      },
      priorityQueuePolicy: {},
    };
  }
  return config;
}

function step(modelName: string, inputMap: Record<string, string>, outputMap: Record<string, string>) {
  return { modelName, modelVersion: -1, inputMap, outputMap, modelNamespace: '' };
}

/** Metadata shapes get a leading -1 batch dim when max_batch_size >= 1; platform falls back to backend. */
export function buildModelMetadata(model: ModelDefinition, versions: string[]): ModelMetadataResponse {
  const batch = model.maxBatchSize >= 1;
  const shape = (dims: number[]) => (batch ? [-1, ...dims] : dims);
  return {
    name: model.name,
    versions,
    platform: model.flavourDef.platform !== '' ? model.flavourDef.platform : model.flavourDef.backend,
    inputs: model.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: shape(t.dims) })),
    outputs: model.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: shape(t.dims) })),
  };
}
