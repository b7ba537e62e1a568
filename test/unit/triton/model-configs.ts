/**
 * ModelConfigs shaped like the real deployments (shared/triton-protocol.md §4.1, §4.2, §4.5, §5),
 * built with the generated fromPartial so they are what ModelConfig decoding would produce.
 */
import { DataType, ModelConfig } from '../../../src/triton/generated/model_config.js';

const { TYPE_STRING, TYPE_INT32, TYPE_BOOL, TYPE_FP32, TYPE_UINT64, TYPE_INT64, TYPE_UINT32 } = DataType;

type T = [name: string, dataType: DataType, dims: number[], optional?: boolean];
const inputs = (list: T[]) => list.map(([name, dataType, dims, optional]) => ({ name, dataType, dims, optional: optional ?? false }));
const outputs = (list: T[]) => list.map(([name, dataType, dims]) => ({ name, dataType, dims }));

const PERF_OUTPUTS: T[] = [
  ['kv_cache_alloc_new_blocks', TYPE_INT32, [1]],
  ['kv_cache_reused_blocks', TYPE_INT32, [1]],
  ['kv_cache_alloc_total_blocks', TYPE_INT32, [1]],
  // Listed twice upstream; discovery must dedupe it.
  ['kv_cache_alloc_total_blocks', TYPE_INT32, [1]],
  ['arrival_time_ns', TYPE_INT64, [1]],
  ['first_scheduled_time_ns', TYPE_INT64, [1]],
  ['first_token_time_ns', TYPE_INT64, [1]],
  ['last_token_time_ns', TYPE_INT64, [1]],
  ['acceptance_rate', TYPE_FP32, [1]],
  ['total_accepted_draft_tokens', TYPE_INT32, [1]],
  ['total_draft_tokens', TYPE_INT32, [1]],
];

export function trtllmEnsembleConfig(options: { perf?: boolean; guided?: boolean; tokenCounts?: boolean } = {}): ModelConfig {
  const perf = options.perf ?? true;
  const list: T[] = [
    ['text_input', TYPE_STRING, [1]],
    ['max_tokens', TYPE_INT32, [1]],
    ['bad_words', TYPE_STRING, [-1], true],
    ['stop_words', TYPE_STRING, [-1], true],
    ['exclude_input_in_output', TYPE_BOOL, [1], true],
    ['end_id', TYPE_INT32, [1], true],
    ['top_k', TYPE_INT32, [1], true],
    ['top_p', TYPE_FP32, [1], true],
    ['temperature', TYPE_FP32, [1], true],
    ['repetition_penalty', TYPE_FP32, [1], true],
    ['min_tokens', TYPE_INT32, [1], true],
    ['presence_penalty', TYPE_FP32, [1], true],
    ['frequency_penalty', TYPE_FP32, [1], true],
    ['seed', TYPE_UINT64, [1], true],
    ['return_log_probs', TYPE_BOOL, [1], true],
    ['return_perf_metrics', TYPE_BOOL, [1], true],
    ['stream', TYPE_BOOL, [1], true],
  ];
  if (options.tokenCounts ?? true) list.push(['return_num_input_tokens', TYPE_BOOL, [1], true], ['return_num_output_tokens', TYPE_BOOL, [1], true]);
  if (options.guided ?? true) list.push(['guided_decoding_guide_type', TYPE_STRING, [1], true], ['guided_decoding_guide', TYPE_STRING, [1], true]);
  const outs: T[] = [
    ['text_output', TYPE_STRING, [-1]],
    ['cum_log_probs', TYPE_FP32, [-1]],
    ['output_log_probs', TYPE_FP32, [-1, -1]],
    ['num_input_tokens', TYPE_INT32, [1]],
    ['num_output_tokens', TYPE_INT32, [1]],
    ...(perf ? PERF_OUTPUTS : []),
  ];
  return ModelConfig.fromPartial({
    name: 'ensemble',
    platform: 'ensemble',
    maxBatchSize: 64,
    input: inputs(list),
    output: outputs(outs),
    modelTransactionPolicy: { decoupled: true },
    parameters: { engine_hash: { stringValue: 'abc123' } },
  });
}

export function vllmConfig(): ModelConfig {
  return ModelConfig.fromPartial({
    name: 'qwen3',
    backend: 'vllm',
    maxBatchSize: 0,
    input: inputs([
      ['text_input', TYPE_STRING, [1]],
      ['image', TYPE_STRING, [-1], true],
      ['stream', TYPE_BOOL, [1], true],
      ['sampling_parameters', TYPE_STRING, [1], true],
      ['exclude_input_in_output', TYPE_BOOL, [1], true],
      ['return_finish_reason', TYPE_BOOL, [1], true],
      ['return_cumulative_logprob', TYPE_BOOL, [1], true],
      ['return_logprobs', TYPE_BOOL, [1], true],
      ['return_num_input_tokens', TYPE_BOOL, [1], true],
      ['return_num_output_tokens', TYPE_BOOL, [1], true],
    ]),
    output: outputs([
      ['text_output', TYPE_STRING, [-1]],
      ['finish_reason', TYPE_STRING, [-1]],
      ['cumulative_logprob', TYPE_FP32, [-1]],
      ['num_input_tokens', TYPE_UINT32, [1]],
      ['num_output_tokens', TYPE_UINT32, [-1]],
    ]),
    modelTransactionPolicy: { decoupled: true },
    dynamicBatching: { maxQueueDelayMicroseconds: 100 },
  });
}

export function llmapiConfig(): ModelConfig {
  return ModelConfig.fromPartial({
    name: 'tensorrt_llm',
    backend: 'python',
    maxBatchSize: 0,
    input: inputs([
      ['text_input', TYPE_STRING, [-1]],
      ['streaming', TYPE_BOOL, [1], true],
      ['sampling_param_best_of', TYPE_INT32, [1], true],
      ['sampling_param_temperature', TYPE_FP32, [1], true],
      ['sampling_param_top_k', TYPE_INT32, [1], true],
      ['sampling_param_top_p', TYPE_FP32, [1], true],
      ['sampling_param_frequency_penalty', TYPE_FP32, [1], true],
      ['sampling_param_presence_penalty', TYPE_FP32, [1], true],
      ['sampling_param_max_tokens', TYPE_INT32, [1], true],
      ['sampling_param_stop', TYPE_STRING, [-1], true],
      ['sampling_param_seed', TYPE_UINT64, [1], true],
      ['sampling_param_exclude_input_from_output', TYPE_BOOL, [1], true],
      ['sampling_param_return_perf_metrics', TYPE_BOOL, [1], true],
      ['return_finish_reason', TYPE_BOOL, [1], true],
      ['stop', TYPE_BOOL, [1], true],
    ]),
    output: outputs([
      ['text_output', TYPE_STRING, [-1]],
      ['finish_reason', TYPE_STRING, [-1]],
      ['kv_cache_reused_block', TYPE_INT32, [-1]],
      ['kv_cache_missed_block', TYPE_INT32, [-1]],
      ['kv_cache_hit_rate', TYPE_FP32, [-1]],
      ['arrival_time_ns', TYPE_INT64, [1]],
      ['first_token_time_ns', TYPE_INT64, [1]],
    ]),
    modelTransactionPolicy: { decoupled: true },
  });
}

/** A non-LLM, non-decoupled model (like Triton's identity examples). */
export function identityConfig(): ModelConfig {
  return ModelConfig.fromPartial({
    name: 'identity',
    backend: 'python',
    maxBatchSize: 8,
    input: inputs([['INPUT0', TYPE_STRING, [1]]]),
    output: outputs([['OUTPUT0', TYPE_STRING, [1]]]),
  });
}
