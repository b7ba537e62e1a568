/** The Triton protocol layer's public surface: the rest of the gateway imports from here. */
export { TritonClient, type HealthStatus, type TritonClientOptions } from './client.js';
export { grpcTargets, type ChannelSettings, type TlsOptions } from './channel.js';
export { decodeResponse, encodeRequest } from './codec.js';
export { describeModel, discoverModels, listLlmModels, NotAnLlmModelError, schemaFromConfig, type Discovery, type DiscoveryClient } from './discovery.js';
export { fromGrpcError, fromGrpcStatus, fromStreamErrorMessage, stripTritonPrefixes } from './status-map.js';
export type {
  BackendFlavour,
  FinishReason,
  GenerationDelta,
  GenerationRequest,
  GuidedDecoding,
  InferOptions,
  ModelSchema,
  PerfMetrics,
  TensorSpec,
} from './types.js';
