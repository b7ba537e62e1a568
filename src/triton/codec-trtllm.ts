/**
 * Request tensors for TRT-LLM `ensemble` / `tensorrt_llm_bls` (shared/triton-protocol.md §4.1).
 *
 * `exclude_input_in_output` is always true: the gateway prepends the prompt itself for `echo`,
 * so the text is the same whether or not the backend would echo, and non-streamed
 * `num_output_tokens` never includes the prompt.
 */
import type { InputTensors } from './input-tensors.js';
import { tritonStreams, type GenerationRequest, type ModelSchema } from './types.js';

/** Outputs whose presence means the deployment can return per-request perf metrics. */
export const PERF_OUTPUTS = ['kv_cache_reused_blocks', 'kv_cache_reused_block', 'kv_cache_alloc_new_blocks', 'arrival_time_ns', 'first_token_time_ns'];

export function hasPerfOutputs(schema: ModelSchema): boolean {
  return PERF_OUTPUTS.some((name) => schema.outputs.has(name));
}

export function encodeTrtllm(t: InputTensors, schema: ModelSchema, req: GenerationRequest): void {
  t.addRequired('text_input', req.prompt, 'prompt');
  t.addRequired('max_tokens', req.maxTokens, 'max_tokens');
  t.addIfPresent('stream', tritonStreams(schema, req.stream));
  t.addIfPresent('exclude_input_in_output', true);
  if (req.temperature !== undefined) t.addRequired('temperature', req.temperature, 'temperature');
  if (req.topP !== undefined) t.addRequired('top_p', req.topP, 'top_p');
  if (req.topK !== undefined) t.addRequired('top_k', req.topK, 'top_k');
  if (req.seed !== undefined) t.addRequired('seed', req.seed, 'seed');
  if (req.presencePenalty !== undefined) t.addRequired('presence_penalty', req.presencePenalty, 'presence_penalty');
  if (req.frequencyPenalty !== undefined) t.addRequired('frequency_penalty', req.frequencyPenalty, 'frequency_penalty');
  if (req.repetitionPenalty !== undefined) t.addRequired('repetition_penalty', req.repetitionPenalty, 'repetition_penalty');
  if (req.minTokens !== undefined) t.addRequired('min_tokens', req.minTokens, 'min_tokens');
  if (req.stop !== undefined && req.stop.length > 0) t.addRequired('stop_words', req.stop, 'stop');
  if (req.guidedDecoding !== undefined) {
    t.addRequired('guided_decoding_guide_type', req.guidedDecoding.type, 'response_format');
    t.addRequired('guided_decoding_guide', req.guidedDecoding.guide, 'response_format');
  }
  t.addIfPresent('return_num_input_tokens', true);
  t.addIfPresent('return_num_output_tokens', true);
  if (hasPerfOutputs(schema)) t.addIfPresent('return_perf_metrics', true);
}
