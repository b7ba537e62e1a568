/** The Triton simulator's programmatic API (see sim/README.md). */
export { startSimulator } from './start.js';
export { loadModelsFile } from './config/models-file.js';
export { defaultModels } from './config/default-models.js';
export type {
  FaultKind,
  FaultSpec,
  GpuConfig,
  KvCacheConfig,
  LatencyConfig,
  RecordedRequest,
  RecordedTensor,
  RequestOutcome,
  RunningSimulator,
  SimFlavour,
  SimGpuState,
  SimModelConfig,
  SimModelState,
  SimState,
  SpeculativeConfig,
  StartSimulatorOptions,
} from './types.js';
