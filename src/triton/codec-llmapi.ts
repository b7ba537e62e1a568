/**
 * Request tensors for the TRT-LLM LLM-API ("PyTorch backend") model, whose inputs are named
 * `sampling_param_*` (shared/triton-protocol.md §4.5). It reports no token counts.
 */
import { hasPerfOutputs } from './codec-trtllm.js';
import type { InputTensors } from './input-tensors.js';
import { tritonStreams, type GenerationRequest, type ModelSchema } from './types.js';

export function encodeLlmApi(t: InputTensors, schema: ModelSchema, req: GenerationRequest): void {
  t.addRequired('text_input', req.prompt, 'prompt');
  t.addRequired('sampling_param_max_tokens', req.maxTokens, 'max_tokens');
  t.addIfPresent('streaming', tritonStreams(schema, req.stream));
  t.addIfPresent('sampling_param_exclude_input_from_output', true);
  if (req.temperature !== undefined) t.addRequired('sampling_param_temperature', req.temperature, 'temperature');
  if (req.topP !== undefined) t.addRequired('sampling_param_top_p', req.topP, 'top_p');
  if (req.topK !== undefined) t.addRequired('sampling_param_top_k', req.topK, 'top_k');
  if (req.seed !== undefined) t.addRequired('sampling_param_seed', req.seed, 'seed');
  if (req.presencePenalty !== undefined) t.addRequired('sampling_param_presence_penalty', req.presencePenalty, 'presence_penalty');
  if (req.frequencyPenalty !== undefined) t.addRequired('sampling_param_frequency_penalty', req.frequencyPenalty, 'frequency_penalty');
  if (req.repetitionPenalty !== undefined) t.addRequired('sampling_param_repetition_penalty', req.repetitionPenalty, 'repetition_penalty');
  if (req.minTokens !== undefined) t.addRequired('sampling_param_min_tokens', req.minTokens, 'min_tokens');
  if (req.stop !== undefined && req.stop.length > 0) t.addRequired('sampling_param_stop', req.stop, 'stop');
  if (req.guidedDecoding !== undefined) {
    t.addRequired('guided_decoding_guide_type', req.guidedDecoding.type, 'response_format');
    t.addRequired('guided_decoding_guide', req.guidedDecoding.guide, 'response_format');
  }
  t.addIfPresent('return_finish_reason', true);
  if (hasPerfOutputs(schema)) t.addIfPresent('sampling_param_return_perf_metrics', true);
}
