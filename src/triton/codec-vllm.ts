/**
 * Request tensors for the vLLM backend (shared/triton-protocol.md §5): no batch dim, and the
 * sampling settings as one JSON `sampling_parameters` string (vLLM SamplingParams field names).
 *
 * Guided decoding goes in `structured_outputs`, itself a JSON string that the backend parses
 * into vLLM's StructuredOutputsParams: `{"json": <schema>}` for `json_schema` (the schema
 * parsed, or the raw string if it is not JSON), `{"json_object": true}` for `json`.
 */
import type { InputTensors } from './input-tensors.js';
import type { GenerationRequest, GuidedDecoding } from './types.js';

function samplingParameters(req: GenerationRequest): string {
  const p: Record<string, unknown> = { max_tokens: req.maxTokens };
  if (req.temperature !== undefined) p.temperature = req.temperature;
  if (req.topP !== undefined) p.top_p = req.topP;
  if (req.topK !== undefined) p.top_k = req.topK;
  if (req.seed !== undefined) p.seed = req.seed;
  if (req.stop !== undefined && req.stop.length > 0) p.stop = req.stop;
  if (req.presencePenalty !== undefined) p.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) p.frequency_penalty = req.frequencyPenalty;
  if (req.repetitionPenalty !== undefined) p.repetition_penalty = req.repetitionPenalty;
  if (req.minTokens !== undefined) p.min_tokens = req.minTokens;
  if (req.guidedDecoding !== undefined) p.structured_outputs = structuredOutputs(req.guidedDecoding);
  return JSON.stringify(p);
}

function structuredOutputs(g: GuidedDecoding): string {
  if (g.type === 'json') return JSON.stringify({ json_object: true });
  let schema: unknown = g.guide;
  try {
    schema = JSON.parse(g.guide);
  } catch {
    // vLLM also accepts the schema as a string; let it report what is wrong with it.
  }
  return JSON.stringify({ json: schema });
}

export function encodeVllm(t: InputTensors, req: GenerationRequest): void {
  t.addRequired('text_input', req.prompt, 'prompt');
  t.addIfPresent('stream', req.stream);
  t.addIfPresent('exclude_input_in_output', true);
  t.addRequired('sampling_parameters', samplingParameters(req), 'sampling_parameters');
  t.addIfPresent('return_finish_reason', true);
  t.addIfPresent('return_num_input_tokens', true);
  t.addIfPresent('return_num_output_tokens', true);
}
