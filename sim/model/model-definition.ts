/**
 * A model as the simulator serves it: the YAML/programmatic config with every default filled
 * in, plus lookup tables the hot path uses.
 */
import type { FaultSpec, KvCacheConfig, LatencyConfig, SimFlavour, SimModelConfig, SpeculativeConfig } from '../types.js';
import { FLAVOURS, type FlavourDef, type TensorDef } from './flavours.js';
import { DEFAULT_WORDS } from '../text/words.js';

export interface ModelDefinition {
  name: string;
  flavour: SimFlavour;
  flavourDef: FlavourDef;
  versions: number[];
  loadedAtStart: boolean;
  maxBatchSize: number;
  decoupled: boolean;
  concurrency: number;
  maxQueueSize: number;
  latency: LatencyConfig;
  parameters: Record<string, string>;
  versionParameters: Record<string, Record<string, string>>;
  metricTags: Record<string, string>;
  eosAfterTokens: number | undefined;
  maxInputTokens: number;
  defaultMaxTokens: number | undefined;
  kv: KvCacheConfig;
  speculative: SpeculativeConfig | undefined;
  gpus: number[];
  weightsBytes: number;
  words: readonly string[];
  /** Config order, the ensemble's duplicate output included. */
  inputs: TensorDef[];
  outputs: TensorDef[];
  inputByName: Map<string, TensorDef>;
  outputByName: Map<string, TensorDef>;
  requiredInputs: string[];
  /** Active from start-up. */
  fault: FaultSpec | undefined;
}

export const ZERO_LATENCY: LatencyConfig = { queueDelayMs: 0, timeToFirstTokenMs: 0, prefillMsPerToken: 0, timePerTokenMs: 0 };

const DEFAULT_KV: KvCacheConfig = { blockTokens: 16, maxBlocks: 8192, bytesPerToken: 131072 };

export function defineModel(config: SimModelConfig, globalLatency: LatencyConfig, gpuCount: number): ModelDefinition {
  const flavourDef = FLAVOURS[config.flavour];
  if (flavourDef === undefined) throw new Error(`model ${config.name}: unknown flavour ${String(config.flavour)}`);
  const isIdentity = config.flavour === 'identity';
  const datatype = config.datatype ?? 'BYTES';
  const retype = (t: TensorDef): TensorDef => (isIdentity ? { ...t, datatype } : t);
  const inputs = flavourDef.inputs.map(retype);
  const outputs = flavourDef.outputs.map(retype);
  const versions = [...new Set(config.versions ?? [1])].sort((a, b) => a - b);
  if (versions.length === 0) throw new Error(`model ${config.name}: versions must not be empty`);
  const gpus = config.gpus ?? [0];
  for (const g of gpus) {
    if (!Number.isInteger(g) || g < 0 || g >= gpuCount) throw new Error(`model ${config.name}: gpu index ${g} is not one of the ${gpuCount} simulated GPUs`);
  }
  const decoupled = flavourDef.decoupled.fixed ? flavourDef.decoupled.default : (config.decoupled ?? flavourDef.decoupled.default);
  return {
    name: config.name,
    flavour: config.flavour,
    flavourDef,
    versions,
    loadedAtStart: config.loaded ?? true,
    maxBatchSize: config.maxBatchSize ?? flavourDef.defaultMaxBatchSize,
    decoupled,
    concurrency: config.concurrency ?? (isIdentity ? 8 : 256),
    maxQueueSize: config.maxQueueSize ?? 0,
    latency: { ...globalLatency, ...stripUndefined(config.latency ?? {}) },
    parameters: { ...flavourDef.parameters, ...(config.parameters ?? {}) },
    versionParameters: config.versionParameters ?? {},
    metricTags: config.metricTags ?? {},
    eosAfterTokens: config.eosAfterTokens,
    maxInputTokens: config.maxInputTokens ?? 8192,
    defaultMaxTokens: config.defaultMaxTokens ?? flavourDef.defaultMaxTokens,
    kv: { ...DEFAULT_KV, ...stripUndefined(config.kvCache ?? {}) },
    speculative: config.speculative,
    gpus,
    weightsBytes: config.weightsBytes ?? (isIdentity ? 0 : 16 * 1024 ** 3),
    words: config.words && config.words.length > 0 ? config.words : DEFAULT_WORDS,
    inputs,
    outputs,
    inputByName: new Map(inputs.map((t) => [t.name, t])),
    outputByName: new Map(outputs.map((t) => [t.name, t])),
    requiredInputs: inputs.filter((t) => !t.optional).map((t) => t.name),
    fault: config.fault,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The config `parameters` for one version: the model's, overridden by that version's. */
export function parametersFor(model: ModelDefinition, version: number): Record<string, string> {
  return { ...model.parameters, ...(model.versionParameters[String(version)] ?? {}) };
}
