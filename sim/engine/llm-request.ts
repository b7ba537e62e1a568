/**
 * What a generation request asks for, read from each flavour's own tensor names
 * (shared/triton-protocol.md §4, §5). Backend-side request errors are raised here with the
 * wording and response path each backend uses.
 */
import { status } from '@grpc/grpc-js';
import type { ModelDefinition } from '../model/model-definition.js';
import { InputReader, parameterValue, type ValidRequest } from '../protocol/infer-request.js';
import { SimError, requestPrefix } from '../protocol/sim-error.js';
import { countTokens } from '../text/tokenizer.js';

export interface LlmReturns {
  numInputTokens: boolean;
  numOutputTokens: boolean;
  perfMetrics: boolean;
  finishReason: boolean;
  stopReason: boolean;
  cumulativeLogprob: boolean;
  logprobs: boolean;
}

export interface LlmRequest {
  prompt: string;
  promptTokens: number;
  maxTokens: number;
  stream: boolean;
  sampled: boolean;
  seed: number;
  stop: string[];
  includeStop: boolean;
  minTokens: number;
  ignoreEos: boolean;
  /** Non-streamed text starts with the prompt. */
  echo: boolean;
  /** TRT-LLM: an echoed non-streamed response counts the prompt in num_output_tokens (output ids include it). */
  echoCountsPrompt: boolean;
  returns: LlmReturns;
}

let executorRequestId = 0;

/** A backend error in the flavour's style: ensemble steps are prefixed, BLS sends it without FINAL (a flag-only FINAL follows). */
function backendError(model: ModelDefinition, message: string, code = status.INTERNAL): SimError {
  switch (model.flavour) {
    case 'ensemble':
      return new SimError(code, `in ensemble '${model.name}', ${message}`, 'backend', 'BACKEND', true);
    case 'tensorrt_llm_bls':
      return new SimError(code, message, 'backend', 'BACKEND', false);
    default:
      return new SimError(code, message, 'backend', 'BACKEND', true);
  }
}

function executorError(model: ModelDefinition, message: string): SimError {
  executorRequestId++;
  return backendError(model, `Executor failed process requestId ${executorRequestId} due to the following error: ${message}`);
}

export function readLlmRequest(req: ValidRequest, defaultSeed: number): LlmRequest {
  if (req.model.maxBatchSize > 0) {
    for (const t of req.tensors.values()) {
      if (t.shape[0]! > 1) {
        throw new SimError(status.INVALID_ARGUMENT, `${requestPrefix(req.id)}triton-sim generates one sequence per request; got batch size ${t.shape[0]} for model '${req.model.name}'`);
      }
    }
  }
  const input = new InputReader(req.tensors);
  switch (req.model.flavour) {
    case 'ensemble':
    case 'tensorrt_llm_bls':
      return readTrtllm(req.model, input, defaultSeed);
    case 'vllm':
      return readVllm(req, input, defaultSeed);
    case 'llmapi':
      return readLlmapi(req.model, input, defaultSeed);
    default:
      throw new Error(`${req.model.flavour} is not a generation flavour`);
  }
}

function checkPromptLength(model: ModelDefinition, promptTokens: number, vllmStyle: boolean): void {
  if (promptTokens <= model.maxInputTokens) return;
  if (vllmStyle) {
    throw backendError(model, `Error generating stream: The decoder prompt (length ${promptTokens}) is longer than the maximum model length of ${model.maxInputTokens}.`);
  }
  throw executorError(model, `Prompt length (${promptTokens}) exceeds maximum input length (${model.maxInputTokens}).`);
}

function readTrtllm(model: ModelDefinition, input: InputReader, defaultSeed: number): LlmRequest {
  const isBls = model.flavour === 'tensorrt_llm_bls';
  const prompt = input.string('text_input');
  if (prompt === undefined) throw backendError(model, 'text_input is required');
  const maxTokens = input.number('max_tokens');
  if (maxTokens === undefined || maxTokens <= 0) {
    if (isBls) throw backendError(model, 'max_tokens must be a single value > 0');
    throw executorError(model, '[TensorRT-LLM][ERROR] Assertion failed: maxNewTokens must be > 0');
  }
  const stream = input.bool('stream') ?? false;
  if (stream && !model.decoupled) {
    throw backendError(model, 'Streaming is only supported if model is deployed using decoupled mode.');
  }
  const promptTokens = countTokens(prompt);
  checkPromptLength(model, promptTokens, false);
  const temperature = input.number('temperature') ?? 1;
  const topK = input.number('top_k');
  const echo = !stream && !(input.bool('exclude_input_in_output') ?? false);
  return {
    prompt,
    promptTokens,
    maxTokens,
    stream,
    sampled: temperature > 0 && topK !== 1,
    seed: input.number('seed') ?? defaultSeed,
    stop: input.strings('stop_words'),
    includeStop: false,
    minTokens: input.number('min_tokens') ?? 0,
    ignoreEos: false,
    echo,
    echoCountsPrompt: echo,
    returns: {
      numInputTokens: input.bool('return_num_input_tokens') ?? false,
      numOutputTokens: input.bool('return_num_output_tokens') ?? false,
      perfMetrics: input.bool('return_perf_metrics') ?? false,
      finishReason: false,
      stopReason: false,
      cumulativeLogprob: false,
      logprobs: false,
    },
  };
}

const VLLM_SAMPLING_KEYS = new Set([
  'n', 'best_of', 'presence_penalty', 'frequency_penalty', 'repetition_penalty', 'temperature', 'top_p', 'top_k', 'min_p',
  'seed', 'stop', 'stop_token_ids', 'bad_words', 'include_stop_str_in_output', 'ignore_eos', 'max_tokens', 'min_tokens',
  'logprobs', 'prompt_logprobs', 'detokenize', 'skip_special_tokens', 'spaces_between_special_tokens', 'logits_processors',
  'truncate_prompt_tokens', 'output_kind', 'guided_decoding', 'structured_outputs', 'logit_bias', 'allowed_token_ids',
  'extra_args', 'lora_name',
]);

function readVllm(req: ValidRequest, input: InputReader, defaultSeed: number): LlmRequest {
  const model = req.model;
  const fail = (msg: string) => backendError(model, `Error generating stream: ${msg}`);
  const prompt = input.string('text_input') ?? '';
  const stream = input.bool('stream') ?? false;
  const exclude = input.bool('exclude_input_in_output');
  if (stream && exclude === false) {
    throw fail('When streaming, `exclude_input_in_output` = False is not allowed.');
  }

  let sampling: Record<string, unknown>;
  const json = input.string('sampling_parameters');
  if (json !== undefined) {
    try {
      sampling = JSON.parse(json) as Record<string, unknown>;
    } catch (err) {
      throw fail(`invalid sampling_parameters JSON: ${(err as Error).message}`);
    }
    if (sampling === null || typeof sampling !== 'object' || Array.isArray(sampling)) throw fail('sampling_parameters must be a JSON object');
    for (const key of Object.keys(sampling)) {
      if (!VLLM_SAMPLING_KEYS.has(key)) throw fail(`SamplingParams.__init__() got an unexpected keyword argument '${key}'`);
    }
  } else {
    // Without the tensor the backend reads the request parameters instead (HTTP generate's path).
    sampling = {};
    for (const [k, p] of Object.entries(req.customParameters)) if (VLLM_SAMPLING_KEYS.has(k)) sampling[k] = parameterValue(p);
  }
  const num = (k: string): number | undefined => {
    const v = sampling[k];
    if (v === undefined || v === null) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw fail(`could not convert ${k}=${JSON.stringify(v)} to a number`);
    return n;
  };
  const bool = (k: string): boolean | undefined => {
    const v = sampling[k];
    if (v === undefined || v === null) return undefined;
    return v === true || v === 'true' || v === 'True' || v === 1 || v === '1';
  };
  const maxTokens = num('max_tokens') ?? model.defaultMaxTokens ?? 16;
  if (maxTokens < 1) throw fail(`max_tokens must be at least 1, got ${maxTokens}.`);
  const stopValue = sampling.stop;
  const stop = stopValue === undefined || stopValue === null ? [] : Array.isArray(stopValue) ? stopValue.map(String) : [String(stopValue)];
  // vLLM's SamplingParams checks (its _verify_args), in its words: the backend sends them back as stream errors.
  const minTokens = num('min_tokens') ?? 0;
  if (minTokens < 0) throw fail(`min_tokens must be greater than or equal to 0, got ${minTokens}.`);
  if (minTokens > maxTokens) throw fail(`min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${minTokens}.`);
  if (stop.includes('')) throw fail('stop cannot contain an empty string.');

  const promptTokens = countTokens(prompt);
  checkPromptLength(model, promptTokens, true);
  const temperature = num('temperature') ?? 1;
  const echo = !stream && exclude !== true;
  return {
    prompt,
    promptTokens,
    maxTokens,
    stream,
    sampled: temperature > 0 && num('top_k') !== 1,
    seed: num('seed') ?? defaultSeed,
    stop,
    includeStop: bool('include_stop_str_in_output') ?? false,
    minTokens,
    ignoreEos: bool('ignore_eos') ?? false,
    echo,
    echoCountsPrompt: false,
    returns: {
      numInputTokens: input.bool('return_num_input_tokens') ?? false,
      numOutputTokens: input.bool('return_num_output_tokens') ?? false,
      perfMetrics: false,
      finishReason: input.bool('return_finish_reason') ?? false,
      stopReason: false,
      cumulativeLogprob: input.bool('return_cumulative_logprob') ?? false,
      logprobs: input.bool('return_logprobs') ?? false,
    },
  };
}

function readLlmapi(model: ModelDefinition, input: InputReader, defaultSeed: number): LlmRequest {
  const prompt = input.string('text_input') ?? '';
  const stream = input.bool('streaming') ?? false;
  if (stream && !model.decoupled) throw backendError(model, 'Streaming is only supported if model is deployed using decoupled mode.');
  const maxTokens = input.number('sampling_param_max_tokens') ?? model.defaultMaxTokens ?? 32;
  if (maxTokens < 1) throw backendError(model, `max_tokens must be at least 1, got ${maxTokens}`);
  const promptTokens = countTokens(prompt);
  checkPromptLength(model, promptTokens, false);
  const temperature = input.number('sampling_param_temperature') ?? 1;
  const echo = !stream && !(input.bool('sampling_param_exclude_input_from_output') ?? true);
  return {
    prompt,
    promptTokens,
    maxTokens,
    stream,
    sampled: temperature > 0 && input.number('sampling_param_top_k') !== 1,
    seed: input.number('sampling_param_seed') ?? defaultSeed,
    stop: input.strings('sampling_param_stop'),
    includeStop: false,
    minTokens: 0,
    ignoreEos: false,
    echo,
    echoCountsPrompt: false,
    returns: {
      numInputTokens: false,
      numOutputTokens: false,
      perfMetrics: input.bool('sampling_param_return_perf_metrics') ?? false,
      finishReason: input.bool('return_finish_reason') ?? false,
      stopReason: input.bool('return_stop_reason') ?? false,
      cumulativeLogprob: input.bool('return_cumulative_logprob') ?? false,
      logprobs: false,
    },
  };
}
