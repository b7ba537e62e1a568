/**
 * The typed boundary between the gateway and Triton. Everything above src/triton speaks
 * these shapes; only src/triton knows tensors, protobuf and gRPC.
 */
import type { CancelSignal } from '../cancellation.js';

/** How a Triton model expects its request, found from its tensor names (never hard-coded). */
export type BackendFlavour =
  /** TRT-LLM `ensemble` or `tensorrt_llm_bls`: leading batch dim, `text_input`/`max_tokens`/`stream`. */
  | 'trtllm'
  /** vLLM: no batch dim, sampling parameters as a JSON `sampling_parameters` tensor. */
  | 'vllm'
  /** TRT-LLM LLM-API (PyTorch) model: `sampling_param_*` inputs, `streaming`. */
  | 'trtllm-llmapi';

export interface TensorSpec {
  name: string;
  /** Protocol datatype string: BYTES, BOOL, INT32, UINT64, FP32, ... */
  datatype: string;
  /** Config dims, without the batch dim. */
  dims: number[];
  optional: boolean;
}

/** What the gateway learnt about one Triton model from ModelConfig (and ModelMetadata). */
export interface ModelSchema {
  name: string;
  /** Versions that are ready, as strings; empty when unknown. */
  versions: string[];
  platform: string;
  backend: string;
  flavour: BackendFlavour;
  maxBatchSize: number;
  decoupled: boolean;
  inputs: Map<string, TensorSpec>;
  outputs: Map<string, TensorSpec>;
  /** String parameters of the model config (engine hash, quantisation, ... when present). */
  parameters: Record<string, string>;
  /** dynamic_batching.max_queue_delay_microseconds, when set. */
  maxQueueDelayMicros?: number;
}

/**
 * Whether Triton streams a request's answer token by token. A model deployed without decoupled
 * mode refuses streaming ("Streaming is only supported if model is deployed using decoupled
 * mode."): a streamed request to it is sent unstreamed, and its one response, the whole answer,
 * is relayed as one chunk.
 */
export function tritonStreams(schema: Pick<ModelSchema, 'decoupled'>, stream: boolean): boolean {
  return stream && schema.decoupled;
}

export interface GuidedDecoding {
  /** `json_schema` for a schema, `json` for any JSON object. */
  type: 'json_schema' | 'json';
  guide: string;
}

/** A generation request, already validated and clamped by the gateway. */
export interface GenerationRequest {
  prompt: string;
  maxTokens: number;
  stream: boolean;
  /** true: the prompt is prepended to the text (OpenAI `echo`). */
  echo: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop?: string[];
  presencePenalty?: number;
  frequencyPenalty?: number;
  repetitionPenalty?: number;
  minTokens?: number;
  guidedDecoding?: GuidedDecoding;
}

/** TRT-LLM per-request perf outputs (`return_perf_metrics`). Times are ns on Triton's clock: use differences. */
export interface PerfMetrics {
  kvCacheReusedBlocks?: number;
  kvCacheAllocNewBlocks?: number;
  kvCacheAllocTotalBlocks?: number;
  /** LLM-API model only (`kv_cache_missed_block`). */
  kvCacheMissedBlocks?: number;
  /** LLM-API model only (`kv_cache_hit_rate`, 0..1). */
  kvCacheHitRate?: number;
  arrivalTimeNs?: bigint;
  firstScheduledTimeNs?: bigint;
  firstTokenTimeNs?: bigint;
  lastTokenTimeNs?: bigint;
  acceptanceRate?: number;
  totalAcceptedDraftTokens?: number;
  totalDraftTokens?: number;
}

export type FinishReason = 'stop' | 'length';

/** One decoded Triton response on the stream. */
export interface GenerationDelta {
  /** New text in this response (a delta when streaming; the full text otherwise). */
  text: string;
  /** Prompt tokens, when the backend reported them (first response, usually). */
  inputTokens?: number;
  /** Tokens generated in this response (a delta: sum them). */
  outputTokens?: number;
  /** Finish reason, when the backend gives one. */
  finishReason?: FinishReason;
  perf?: PerfMetrics;
  /** true on the response carrying `triton_final_response=true`. */
  final: boolean;
  /** Triton's model version that answered. */
  modelVersion?: string;
}

export interface InferOptions {
  /** Absolute deadline (ms since epoch); becomes the gRPC deadline. */
  deadline?: number;
  /** Aborting cancels the gRPC call (and so the generation on Triton). */
  signal?: CancelSignal;
  /** Extra call metadata, e.g. `traceparent` and `tracestate`. */
  metadata?: Record<string, string>;
  /** Model version to pin; empty lets Triton choose. */
  version?: string;
  /**
   * The Triton request `id` (it shows in Triton's errors, logs and trace spans as the request id).
   * One request per stream, so it only has to be unique per call; generated when absent.
   */
  requestId?: string;
  /**
   * Non-streamed requests only: send on a shared long-lived stream (stream-mux.ts) instead of a
   * stream of its own. Aborting then only stops waiting; Triton finishes the generation.
   */
  multiplex?: boolean;
}
