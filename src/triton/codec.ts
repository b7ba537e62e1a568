/**
 * GenerationRequest ⇄ Triton tensors. Encoding is per backend flavour (codec-*.ts); decoding is
 * shared, because the flavours agree on output names except the LLM-API's singular KV-cache
 * names, which are mapped here too.
 */
import { encodeLlmApi } from './codec-llmapi.js';
import { encodeTrtllm } from './codec-trtllm.js';
import { encodeVllm } from './codec-vllm.js';
import type { InferParameter, ModelInferRequest, ModelInferResponse } from './generated/grpc_service.js';
import { InputTensors } from './input-tensors.js';
import { badResponse, readBigInteger, readFloat, readInteger, readSingleString } from './output-tensors.js';
import type { GenerationDelta, GenerationRequest, ModelSchema, PerfMetrics } from './types.js';

export function encodeRequest(schema: ModelSchema, req: GenerationRequest, id: string): ModelInferRequest {
  const t = new InputTensors(schema);
  switch (schema.flavour) {
    case 'trtllm':
      encodeTrtllm(t, schema, req);
      break;
    case 'vllm':
      encodeVllm(t, req);
      break;
    case 'trtllm-llmapi':
      encodeLlmApi(t, schema, req);
      break;
  }
  const parameters: { [key: string]: InferParameter } = { triton_enable_empty_final_response: { boolParam: true } };
  return { modelName: schema.name, modelVersion: '', id, parameters, inputs: t.inputs, outputs: [], rawInputContents: t.raw };
}

/**
 * One response on the stream to a delta. `final` comes from the `triton_final_response`
 * response parameter; unary ModelInfer callers set it themselves.
 */
export function decodeResponse(_schema: ModelSchema, response: ModelInferResponse): GenerationDelta {
  const delta: GenerationDelta = { text: '', final: response.parameters.triton_final_response?.boolParam === true };
  if (response.modelVersion !== '') delta.modelVersion = response.modelVersion;
  const outputs = response.outputs;
  const raws = response.rawOutputContents;
  if (outputs.length === 0) return delta;
  if (raws.length !== outputs.length) {
    throw badResponse(`${outputs.length} outputs but ${raws.length} raw_output_contents entries`);
  }
  let perf: PerfMetrics | undefined;
  let sawText = false;
  for (let i = 0; i < outputs.length; i++) {
    const out = outputs[i]!;
    const raw = raws[i]!;
    switch (out.name) {
      case 'text_output':
        delta.text = readSingleString(out, raw);
        sawText = true;
        break;
      case 'num_input_tokens':
        delta.inputTokens = readInteger(out, raw);
        break;
      case 'num_output_tokens':
        delta.outputTokens = readInteger(out, raw);
        break;
      case 'finish_reason': {
        // vLLM sends str(finish_reason): "stop", "length", or "None" while unfinished.
        const reason = readSingleString(out, raw);
        if (reason === 'stop' || reason === 'length') delta.finishReason = reason;
        break;
      }
      case 'kv_cache_reused_blocks':
      case 'kv_cache_reused_block':
        (perf ??= {}).kvCacheReusedBlocks = readInteger(out, raw);
        break;
      case 'kv_cache_alloc_new_blocks':
        (perf ??= {}).kvCacheAllocNewBlocks = readInteger(out, raw);
        break;
      case 'kv_cache_alloc_total_blocks':
        (perf ??= {}).kvCacheAllocTotalBlocks = readInteger(out, raw);
        break;
      case 'kv_cache_missed_block':
        (perf ??= {}).kvCacheMissedBlocks = readInteger(out, raw);
        break;
      case 'kv_cache_hit_rate':
        (perf ??= {}).kvCacheHitRate = readFloat(out, raw);
        break;
      case 'arrival_time_ns':
        (perf ??= {}).arrivalTimeNs = readBigInteger(out, raw);
        break;
      case 'first_scheduled_time_ns':
        (perf ??= {}).firstScheduledTimeNs = readBigInteger(out, raw);
        break;
      case 'first_token_time_ns':
        (perf ??= {}).firstTokenTimeNs = readBigInteger(out, raw);
        break;
      case 'last_token_time_ns':
        (perf ??= {}).lastTokenTimeNs = readBigInteger(out, raw);
        break;
      case 'acceptance_rate':
        (perf ??= {}).acceptanceRate = readFloat(out, raw);
        break;
      case 'total_accepted_draft_tokens':
        (perf ??= {}).totalAcceptedDraftTokens = readInteger(out, raw);
        break;
      case 'total_draft_tokens':
        (perf ??= {}).totalDraftTokens = readInteger(out, raw);
        break;
      default:
        // Outputs the gateway does not use (logits, log probs, batch_index, ...).
        break;
    }
  }
  // Only a flag-only final has no outputs; every data response of an LLM model carries text.
  if (!sawText) throw badResponse(`response with outputs [${outputs.map((o) => o.name).join(', ')}] but no text_output`);
  if (perf !== undefined) delta.perf = perf;
  return delta;
}
