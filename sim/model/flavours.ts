/**
 * The tensor names, types and config defaults of each flavour, as the upstream model
 * repositories declare them (shared/triton-protocol.md §4.1–§4.5, §5). Dims exclude the batch dim.
 */
import type { SimFlavour } from '../types.js';

export interface TensorDef {
  name: string;
  /** Protocol datatype string (BYTES for TYPE_STRING). */
  datatype: string;
  dims: number[];
  optional: boolean;
}

export interface FlavourDef {
  platform: string;
  backend: string;
  defaultMaxBatchSize: number;
  /** fixed: the flavour decides decoupled-ness itself (vLLM always, identity never). */
  decoupled: { default: boolean; fixed: boolean };
  inputs: TensorDef[];
  outputs: TensorDef[];
  parameters: Record<string, string>;
  /**
   * separate: every data response goes out without FINAL, then a flag-only FINAL follows
   * (ensemble FinishEnsemble, the BLS model). with-last: FINAL rides on the last data response.
   */
  finalFlag: 'separate' | 'with-last';
  instanceKind: 'KIND_GPU' | 'KIND_CPU' | 'KIND_MODEL';
  defaultMaxTokens: number | undefined;
}

function req(name: string, datatype: string, dims: number[]): TensorDef {
  return { name, datatype, dims, optional: false };
}
function opt(name: string, datatype: string, dims: number[]): TensorDef {
  return { name, datatype, dims, optional: true };
}

const PERF_OUTPUTS: TensorDef[] = [
  opt('kv_cache_alloc_new_blocks', 'INT32', [1]),
  opt('kv_cache_reused_blocks', 'INT32', [1]),
  opt('kv_cache_alloc_total_blocks', 'INT32', [1]),
  opt('arrival_time_ns', 'INT64', [1]),
  opt('first_scheduled_time_ns', 'INT64', [1]),
  opt('first_token_time_ns', 'INT64', [1]),
  opt('last_token_time_ns', 'INT64', [1]),
  opt('acceptance_rate', 'FP32', [1]),
  opt('total_accepted_draft_tokens', 'INT32', [1]),
  opt('total_draft_tokens', 'INT32', [1]),
];

const TRTLLM_INPUTS: TensorDef[] = [
  req('text_input', 'BYTES', [1]),
  opt('decoder_text_input', 'BYTES', [1]),
  req('max_tokens', 'INT32', [1]),
  opt('num_return_sequences', 'INT32', [1]),
  opt('bad_words', 'BYTES', [-1]),
  opt('stop_words', 'BYTES', [-1]),
  opt('exclude_input_in_output', 'BOOL', [1]),
  opt('end_id', 'INT32', [1]),
  opt('pad_id', 'INT32', [1]),
  opt('top_k', 'INT32', [1]),
  opt('top_p', 'FP32', [1]),
  opt('temperature', 'FP32', [1]),
  opt('length_penalty', 'FP32', [1]),
  opt('repetition_penalty', 'FP32', [1]),
  opt('min_tokens', 'INT32', [1]),
  opt('presence_penalty', 'FP32', [1]),
  opt('frequency_penalty', 'FP32', [1]),
  opt('seed', 'UINT64', [1]),
  opt('return_log_probs', 'BOOL', [1]),
  opt('return_context_logits', 'BOOL', [1]),
  opt('return_generation_logits', 'BOOL', [1]),
  opt('return_perf_metrics', 'BOOL', [1]),
  opt('return_num_input_tokens', 'BOOL', [1]),
  opt('return_num_output_tokens', 'BOOL', [1]),
  opt('beam_width', 'INT32', [1]),
  opt('stream', 'BOOL', [1]),
  opt('prompt_embedding_table', 'FP16', [-1, -1]),
  opt('prompt_table_extra_id', 'UINT64', [1]),
  opt('prompt_vocab_size', 'INT32', [1]),
  opt('embedding_bias_words', 'BYTES', [-1]),
  opt('embedding_bias_weights', 'FP32', [-1]),
  opt('lora_task_id', 'UINT64', [1]),
  opt('lora_weights', 'FP16', [-1, -1]),
  opt('lora_config', 'INT32', [-1, 3]),
  opt('guided_decoding_guide_type', 'BYTES', [1]),
  opt('guided_decoding_guide', 'BYTES', [1]),
];

const TRTLLM_OUTPUTS_HEAD: TensorDef[] = [
  opt('text_output', 'BYTES', [-1]),
  opt('cum_log_probs', 'FP32', [-1]),
  opt('output_log_probs', 'FP32', [-1, -1]),
  opt('context_logits', 'FP32', [-1, -1]),
  opt('generation_logits', 'FP32', [-1, -1, -1]),
  opt('batch_index', 'INT32', [1]),
  opt('sequence_index', 'INT32', [1]),
];
const TOKEN_COUNT_OUTPUTS: TensorDef[] = [opt('num_input_tokens', 'INT32', [1]), opt('num_output_tokens', 'INT32', [1])];

/** Upstream's ensemble config lists kv_cache_alloc_total_blocks twice; ModelConfig shows the duplicate. */
const ENSEMBLE_OUTPUTS: TensorDef[] = [
  ...TRTLLM_OUTPUTS_HEAD,
  ...PERF_OUTPUTS.slice(0, 3),
  opt('kv_cache_alloc_total_blocks', 'INT32', [1]),
  ...PERF_OUTPUTS.slice(3),
  ...TOKEN_COUNT_OUTPUTS,
];

const BLS_INPUTS: TensorDef[] = [
  // The BLS model checks text_input and max_tokens itself ("text_input is required").
  ...TRTLLM_INPUTS.map((t) => ({ ...t, optional: true })),
  opt('image_input', 'FP16', [-1, 3, -1, -1]),
  opt('image_bytes_input', 'UINT8', [-1, -1, -1, -1]),
  opt('image_url_input', 'BYTES', [1]),
  opt('video_bytes_input', 'UINT8', [-1, -1, -1, -1]),
  opt('num_draft_tokens', 'INT32', [1]),
  opt('use_draft_logits', 'BOOL', [1]),
];

const VLLM_INPUTS: TensorDef[] = [
  req('text_input', 'BYTES', [1]),
  opt('image', 'BYTES', [-1]),
  opt('stream', 'BOOL', [1]),
  opt('sampling_parameters', 'BYTES', [1]),
  opt('exclude_input_in_output', 'BOOL', [1]),
  opt('return_finish_reason', 'BOOL', [1]),
  opt('return_cumulative_logprob', 'BOOL', [1]),
  opt('return_logprobs', 'BOOL', [1]),
  opt('return_num_input_tokens', 'BOOL', [1]),
  opt('return_num_output_tokens', 'BOOL', [1]),
  opt('embedding_request', 'BYTES', [1]),
];

const VLLM_OUTPUTS: TensorDef[] = [
  opt('text_output', 'BYTES', [-1]),
  opt('finish_reason', 'BYTES', [-1]),
  opt('cumulative_logprob', 'FP32', [-1]),
  opt('logprobs', 'BYTES', [-1]),
  opt('num_input_tokens', 'UINT32', [1]),
  opt('num_output_tokens', 'UINT32', [-1]),
];

const LLMAPI_INPUTS: TensorDef[] = [
  req('text_input', 'BYTES', [-1]),
  opt('image_url', 'BYTES', [-1]),
  opt('streaming', 'BOOL', [1]),
  opt('sampling_param_best_of', 'INT32', [1]),
  opt('sampling_param_temperature', 'FP32', [1]),
  opt('sampling_param_top_k', 'INT32', [1]),
  opt('sampling_param_top_p', 'FP32', [1]),
  opt('sampling_param_frequency_penalty', 'FP32', [1]),
  opt('sampling_param_presence_penalty', 'FP32', [1]),
  opt('sampling_param_max_tokens', 'INT32', [1]),
  opt('sampling_param_stop', 'BYTES', [-1]),
  opt('sampling_param_seed', 'UINT64', [1]),
  opt('sampling_param_exclude_input_from_output', 'BOOL', [1]),
  opt('sampling_param_return_perf_metrics', 'BOOL', [1]),
  opt('return_finish_reason', 'BOOL', [1]),
  opt('return_stop_reason', 'BOOL', [1]),
  opt('return_cumulative_logprob', 'BOOL', [1]),
  opt('stop', 'BOOL', [1]),
  opt('lora_id', 'UINT64', [1]),
  opt('lora_name', 'BYTES', [1]),
  opt('lora_path', 'BYTES', [1]),
  opt('lora_ckpt_source', 'BYTES', [1]),
];

const LLMAPI_OUTPUTS: TensorDef[] = [
  opt('text_output', 'BYTES', [-1]),
  opt('finish_reason', 'BYTES', [-1]),
  opt('stop_reason', 'BYTES', [-1]),
  opt('cumulative_logprob', 'FP32', [-1]),
  opt('kv_cache_reused_block', 'INT32', [-1]),
  opt('kv_cache_missed_block', 'INT32', [-1]),
  opt('kv_cache_alloc_new_blocks', 'INT32', [-1]),
  opt('kv_cache_alloc_total_blocks', 'INT32', [-1]),
  opt('kv_cache_hit_rate', 'FP32', [-1]),
  opt('arrival_time_ns', 'INT64', [1]),
  opt('first_scheduled_time_ns', 'INT64', [1]),
  opt('first_token_time_ns', 'INT64', [1]),
  opt('last_token_time_ns', 'INT64', [1]),
  opt('acceptance_rate', 'FP32', [1]),
  opt('total_accepted_draft_tokens', 'INT32', [1]),
  opt('total_draft_tokens', 'INT32', [1]),
];

export const FLAVOURS: Record<SimFlavour, FlavourDef> = {
  ensemble: {
    platform: 'ensemble',
    backend: '',
    defaultMaxBatchSize: 64,
    decoupled: { default: true, fixed: false },
    inputs: TRTLLM_INPUTS,
    outputs: ENSEMBLE_OUTPUTS,
    parameters: {},
    finalFlag: 'separate',
    instanceKind: 'KIND_GPU',
    defaultMaxTokens: undefined,
  },
  tensorrt_llm_bls: {
    platform: '',
    backend: 'python',
    defaultMaxBatchSize: 64,
    decoupled: { default: true, fixed: false },
    inputs: BLS_INPUTS,
    outputs: [...TRTLLM_OUTPUTS_HEAD, ...PERF_OUTPUTS, ...TOKEN_COUNT_OUTPUTS],
    parameters: {
      accumulate_tokens: 'false',
      tensorrt_llm_model_name: 'tensorrt_llm',
      tensorrt_llm_draft_model_name: '',
      multimodal_encoders_name: '',
    },
    finalFlag: 'separate',
    instanceKind: 'KIND_CPU',
    defaultMaxTokens: undefined,
  },
  vllm: {
    platform: '',
    backend: 'vllm',
    defaultMaxBatchSize: 0,
    decoupled: { default: true, fixed: true },
    inputs: VLLM_INPUTS,
    outputs: VLLM_OUTPUTS,
    parameters: { REPORT_CUSTOM_METRICS: 'true' },
    finalFlag: 'with-last',
    instanceKind: 'KIND_MODEL',
    defaultMaxTokens: 16,
  },
  llmapi: {
    platform: '',
    backend: 'python',
    defaultMaxBatchSize: 64,
    decoupled: { default: true, fixed: false },
    inputs: LLMAPI_INPUTS,
    outputs: LLMAPI_OUTPUTS,
    parameters: {},
    finalFlag: 'with-last',
    instanceKind: 'KIND_MODEL',
    defaultMaxTokens: 32,
  },
  identity: {
    platform: '',
    backend: 'identity',
    defaultMaxBatchSize: 8,
    decoupled: { default: false, fixed: true },
    inputs: [req('INPUT0', 'BYTES', [-1])],
    outputs: [opt('OUTPUT0', 'BYTES', [-1])],
    parameters: {},
    finalFlag: 'with-last',
    instanceKind: 'KIND_CPU',
    defaultMaxTokens: undefined,
  },
};

export function isLlmFlavour(f: SimFlavour): boolean {
  return f !== 'identity';
}
