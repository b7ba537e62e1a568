/**
 * The simulator's public shapes. The gateway's tests and the demo depend on these names;
 * sim/README.md documents each field and the YAML that produces it.
 */

/** Model flavours: which Triton deployment the model imitates (tensor names, batching, final flags). */
export type SimFlavour = 'ensemble' | 'tensorrt_llm_bls' | 'vllm' | 'llmapi' | 'identity';

export interface LatencyConfig {
  /** Fixed time every request spends queued before it may be scheduled. */
  queueDelayMs: number;
  /** From scheduling to the first token (prefill), before the per-prompt-token part. */
  timeToFirstTokenMs: number;
  /** Extra prefill time per prompt token that the KV cache did not already hold. */
  prefillMsPerToken: number;
  /** Between consecutive tokens. */
  timePerTokenMs: number;
}

export interface KvCacheConfig {
  /** Tokens per KV block (TRT-LLM `tokens_per_block`). */
  blockTokens: number;
  /** Blocks the cache holds; least recently used blocks are evicted past this. */
  maxBlocks: number;
  /** GPU bytes one token in flight occupies (K and V of every layer). */
  bytesPerToken: number;
}

export interface SpeculativeConfig {
  /** Draft tokens proposed per decoding step. */
  draftTokens: number;
  /** Probability that each successive draft token is accepted (0..1). */
  acceptanceRate: number;
}

export interface GpuConfig {
  uuid: string;
  name: string;
  memoryTotalBytes: number;
  /** Power when idle and at full utilization, in watts. */
  idlePowerWatts: number;
  powerLimitWatts: number;
  /** Concurrently generating sequences at which utilization reaches 1.0. */
  saturationSequences: number;
}

/** Which requests a fault hits; with neither field it hits every request. */
interface FaultSelector {
  /** Hit only the first N matching requests (counted since the fault was set or the last reset). */
  firstN?: number;
  /** Hit each request with this probability, drawn from a PRNG seeded with `seed`. */
  fraction?: number;
  seed?: number;
}

export type FaultSpec = FaultSelector &
  (
    | {
        /** Fail with a gRPC status: error_message on a stream (or a closed stream with `triton_grpc_error`), the status on unary calls. */
        kind: 'error';
        /** gRPC status code name, e.g. UNAVAILABLE, INTERNAL, INVALID_ARGUMENT, RESOURCE_EXHAUSTED. */
        code: string;
        message: string;
        /** Tokens generated before the error (0 = before the first token). */
        afterTokens?: number;
      }
    | { /** Never answers until the client cancels. */ kind: 'hang' }
    | { kind: 'slow-first-token'; ms: number }
    | { kind: 'slow-tokens'; msPerToken: number }
    | {
        /** Ends the whole gRPC call after N tokens: with `code` (a status name, default UNAVAILABLE) or `OK` to just end it. */
        kind: 'cut';
        afterTokens: number;
        code?: string;
        message?: string;
      }
    | { /** Stops sending after N tokens; the call stays open until cancelled. */ kind: 'stall'; afterTokens: number }
    | {
        kind: 'malformed';
        /** truncated-length-prefix: text_output's BYTES length prefix claims more bytes than follow; missing-text-output: no text_output tensor; raw-count-mismatch: one fewer raw_output_contents than outputs. */
        variant: 'truncated-length-prefix' | 'missing-text-output' | 'raw-count-mismatch';
      }
    | { /** Sends every token without a final flag, then ends the call with OK. */ kind: 'no-final' }
    | { /** Rejects at admission as a full queue would. */ kind: 'queue-full' }
    | {
        /** Delays the model's RepositoryModelLoad calls (a real load takes seconds); inference is untouched. */
        kind: 'slow-load';
        ms: number;
      }
    | {
        /** Fails the model's ModelReady calls (health checks) with a gRPC status; inference is untouched. */
        kind: 'model-ready-error';
        code: string;
        message: string;
      }
  );

export type FaultKind = FaultSpec['kind'];

export interface SimModelConfig {
  name: string;
  flavour: SimFlavour;
  /** Versions present in the repository (default [1]); the highest loaded one is served. */
  versions?: number[];
  /** Loaded at start-up (default true). RepositoryModelLoad/Unload change it. */
  loaded?: boolean;
  /** Default per flavour: ensemble/bls/llmapi 64, vllm 0, identity 8. */
  maxBatchSize?: number;
  /** TRT-LLM flavours may be deployed non-decoupled (then unary ModelInfer works and stream=true fails). vLLM is always decoupled; identity never. */
  decoupled?: boolean;
  /** Requests generating at once; more wait in the queue. Default 256 (identity 8). */
  concurrency?: number;
  /** Waiting requests allowed before UNAVAILABLE "Exceeds maximum queue size"; 0 = unlimited (default). */
  maxQueueSize?: number;
  latency?: Partial<LatencyConfig>;
  /** Config `parameters` (string map), e.g. engine_hash, quantisation. */
  parameters?: Record<string, string>;
  /** Per-version overrides of `parameters`, keyed by version number. */
  versionParameters?: Record<string, Record<string, string>>;
  metricTags?: Record<string, string>;
  /** Natural end (finish "stop") after this many generated tokens unless ignore_eos. */
  eosAfterTokens?: number;
  /** Longest prompt in tokens; longer prompts fail as the backend does. Default 8192. */
  maxInputTokens?: number;
  /** Default max_tokens when the request gives none (vLLM 16, llmapi 32). */
  defaultMaxTokens?: number;
  kvCache?: Partial<KvCacheConfig>;
  speculative?: SpeculativeConfig;
  /** Indices into the simulator's GPU list (default [0]). */
  gpus?: number[];
  /** Bytes of weights the model holds on its GPUs while loaded (split evenly). */
  weightsBytes?: number;
  /** Identity flavour: the datatype of INPUT0/OUTPUT0 (default BYTES). */
  datatype?: string;
  /** Vocabulary the generator draws from (default: a fixed English word list). */
  words?: string[];
  /** A fault active from start-up. */
  fault?: FaultSpec;
}

export interface RecordedTensor {
  datatype: string;
  shape: number[];
  /** Decoded elements: strings for BYTES (UTF-8), booleans for BOOL, numbers otherwise. */
  values: Array<string | number | boolean>;
}

export type RequestOutcome = 'pending' | 'queued' | 'running' | 'ok' | 'error' | 'cancelled';

export interface RecordedRequest {
  seq: number;
  /** Unix ms when the request arrived. */
  time: number;
  transport: 'grpc-stream' | 'grpc-unary' | 'http-generate' | 'http-generate-stream';
  model: string;
  /** The version asked for ("" = server's choice). */
  version: string;
  id: string;
  /** Request parameters as plain values (bool, number or string). */
  parameters: Record<string, string | number | boolean>;
  inputs: Record<string, RecordedTensor>;
  /** gRPC metadata or HTTP headers of the call, e.g. traceparent, tracestate. */
  metadata: Record<string, string>;
  outcome: RequestOutcome;
  /** The error text when outcome is error. */
  error?: string;
}

export interface SimModelState {
  loaded: boolean;
  /** Versions currently served (READY). */
  readyVersions: string[];
  /** Requests holding an execution slot. */
  inFlight: number;
  /** Requests waiting for a slot (nv_inference_pending_request_count). */
  queued: number;
  received: number;
  completed: number;
  failed: number;
  cancellations: number;
  fault: FaultSpec | null;
  /** Calls that fault has met (inference requests, or ModelReady calls for a ModelReady fault). */
  faultSeen: number;
}

export interface SimGpuState {
  index: number;
  uuid: string;
  name: string;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  utilization: number;
  powerWatts: number;
  /** Sequences generating on this GPU right now. */
  activeSequences: number;
}

export interface SimState {
  ready: boolean;
  openStreams: number;
  models: Record<string, SimModelState>;
  gpus: SimGpuState[];
}

export interface StartSimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 = a random free port (the default). */
  grpcPort?: number;
  httpPort?: number;
  metricsPort?: number;
  models?: SimModelConfig[];
  /** A YAML file (models, and optionally latency, gpus, seed). Its models are used when `models` is absent. */
  modelsFile?: string;
  /** Applies to every model; a model's own `latency` wins. */
  latency?: Partial<LatencyConfig>;
  /** Default sampling seed when a request gives none, and the base of every other PRNG. */
  seed?: number;
  /** One line per request on stderr. */
  logRequests?: boolean;
  /** GPUs to simulate (default: one 80 GB GPU, or the file's list). */
  gpus?: GpuConfig[];
  /** Recorded requests kept (default 1000). */
  recordLimit?: number;
}

export interface RunningSimulator {
  /** "127.0.0.1:PORT" */
  grpcAddress: string;
  /** http://127.0.0.1:PORT (generate, health and /control) */
  httpUrl: string;
  /** http://127.0.0.1:PORT/metrics */
  metricsUrl: string;
  setFault(model: string, fault: FaultSpec): void;
  clearFaults(model?: string): void;
  received(): RecordedRequest[];
  state(): SimState;
  /** Clears recorded requests, counters, statistics, the KV caches and fault counters (faults stay set). */
  reset(): void;
  /** Flips server readiness (ServerReady, health Check, /v2/health/ready; inference is refused while not ready). */
  setServerReady(ready: boolean): void;
  stop(): Promise<void>;
}
