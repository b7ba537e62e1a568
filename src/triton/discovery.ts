/**
 * What a Triton model looks like and whether the gateway can drive it (DESIGN §5): everything
 * comes from ModelConfig (datatypes, dims, max_batch_size, decoupled) and ModelMetadata (ready
 * versions); nothing is hard-coded. The backend flavour is recognised by tensor names.
 */
import type { ModelMetadataResponse } from './generated/grpc_service.js';
import { DataType, type ModelConfig } from './generated/model_config.js';
import type { BackendFlavour, ModelSchema, TensorSpec } from './types.js';

/** Thrown for a model that is not one of the LLM flavours the gateway can drive. */
export class NotAnLlmModelError extends Error {
  constructor(readonly model: string, reason: string) {
    super(`model '${model}' is not an LLM model the gateway can serve: ${reason}`);
    this.name = 'NotAnLlmModelError';
  }
}

/** The calls discovery needs; TritonClient provides them. */
export interface DiscoveryClient {
  modelConfig(name: string, version?: string): Promise<ModelConfig>;
  modelMetadata(name: string, version?: string): Promise<ModelMetadataResponse>;
  repositoryIndex(readyOnly?: boolean): Promise<Array<{ name: string; version: string; state: string; reason: string }>>;
}

/** Config enum to the protocol datatype string (§2.6): TYPE_STRING is BYTES, the rest drop `TYPE_`. */
export function datatypeName(t: DataType): string {
  if (t === DataType.TYPE_STRING) return 'BYTES';
  const name = DataType[t];
  return name === undefined || t === DataType.TYPE_INVALID ? 'INVALID' : name.slice('TYPE_'.length);
}

function tensorMap(tensors: ReadonlyArray<{ name: string; dataType: DataType; dims: number[]; optional?: boolean }>): Map<string, TensorSpec> {
  const map = new Map<string, TensorSpec>();
  // The TRT-LLM ensemble lists kv_cache_alloc_total_blocks twice: keep the first of each name.
  for (const t of tensors) {
    if (map.has(t.name)) continue;
    map.set(t.name, { name: t.name, datatype: datatypeName(t.dataType), dims: t.dims.slice(), optional: t.optional ?? false });
  }
  return map;
}

/** The flavour from tensor names; throws NotAnLlmModelError when it is none of them. */
export function detectFlavour(name: string, inputs: ReadonlyMap<string, TensorSpec>, outputs: ReadonlyMap<string, TensorSpec>, maxBatchSize: number): BackendFlavour {
  if (!inputs.has('text_input')) throw new NotAnLlmModelError(name, "it has no 'text_input' input");
  if (!outputs.has('text_output')) throw new NotAnLlmModelError(name, "it has no 'text_output' output");
  if (inputs.has('sampling_parameters')) return 'vllm';
  for (const input of inputs.keys()) if (input.startsWith('sampling_param_')) return 'trtllm-llmapi';
  if (inputs.has('max_tokens')) {
    if (maxBatchSize > 0) return 'trtllm';
    throw new NotAnLlmModelError(name, "it has 'text_input' and 'max_tokens' but no batch dim (max_batch_size 0), unlike a TRT-LLM ensemble or BLS model");
  }
  throw new NotAnLlmModelError(name, "its inputs match no known backend (vLLM 'sampling_parameters', TRT-LLM 'max_tokens', LLM-API 'sampling_param_*')");
}

/** Pure: the schema from a ModelConfig (and ModelMetadata when available, for the ready versions). */
export function schemaFromConfig(config: ModelConfig, metadata?: ModelMetadataResponse): ModelSchema {
  const inputs = tensorMap(config.input);
  const outputs = tensorMap(config.output);
  const flavour = detectFlavour(config.name, inputs, outputs, config.maxBatchSize);
  const parameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(config.parameters)) parameters[key] = value.stringValue;
  const schema: ModelSchema = {
    name: config.name,
    versions: metadata?.versions.slice() ?? [],
    platform: config.platform,
    backend: config.backend,
    flavour,
    maxBatchSize: config.maxBatchSize,
    decoupled: config.modelTransactionPolicy?.decoupled ?? false,
    inputs,
    outputs,
    parameters,
  };
  const delay = config.dynamicBatching?.maxQueueDelayMicroseconds;
  if (delay !== undefined && delay > 0) schema.maxQueueDelayMicros = delay;
  return schema;
}

export async function describeModel(client: DiscoveryClient, name: string, version?: string): Promise<ModelSchema> {
  const [config, metadata] = await Promise.all([client.modelConfig(name, version), client.modelMetadata(name, version)]);
  // A config without a name (some servers leave it empty) still belongs to the model asked for.
  if (config.name === '') config.name = name;
  return schemaFromConfig(config, metadata);
}

export interface Discovery {
  models: ModelSchema[];
  /** Ready models that are not LLM models (tokenizers, composing steps, ...), with the reason. */
  skipped: Array<{ name: string; reason: string }>;
}

/** Every ready model of the repository, described; the non-LLM ones are listed as skipped. */
export async function discoverModels(client: DiscoveryClient): Promise<Discovery> {
  const index = await client.repositoryIndex(true);
  const names = [...new Set(index.map((m) => m.name))].sort();
  const results = await Promise.all(
    names.map(async (name) => {
      try {
        return { schema: await describeModel(client, name) };
      } catch (err) {
        if (err instanceof NotAnLlmModelError) return { skipped: { name, reason: err.message } };
        throw err;
      }
    }),
  );
  const out: Discovery = { models: [], skipped: [] };
  for (const r of results) {
    if (r.schema !== undefined) out.models.push(r.schema);
    else if (r.skipped !== undefined) out.skipped.push(r.skipped);
  }
  return out;
}

export async function listLlmModels(client: DiscoveryClient): Promise<ModelSchema[]> {
  return (await discoverModels(client)).models;
}
