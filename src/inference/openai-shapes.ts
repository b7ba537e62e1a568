/**
 * OpenAI response objects for text completions: the non-streamed body, the streamed chunks and
 * the usage chunk. Pure functions of their inputs, so the route stays short and tests can read them.
 */
import type { FinishReason } from '../triton/types.js';
import type { Usage } from './observer.js';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  return { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens };
}

export interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
}

export function completionBody(ident: CompletionIdentity, text: string, finishReason: FinishReason, usage: Usage | undefined) {
  return {
    id: ident.id,
    object: 'text_completion' as const,
    created: ident.created,
    model: ident.model,
    choices: [{ index: 0, text, finish_reason: finishReason, logprobs: null }],
    ...(usage ? { usage: toOpenAIUsage(usage) } : {}),
  };
}

export function completionChunk(ident: CompletionIdentity, text: string, finishReason: FinishReason | null, includeUsage: boolean) {
  return {
    id: ident.id,
    object: 'text_completion' as const,
    created: ident.created,
    model: ident.model,
    choices: [{ index: 0, text, finish_reason: finishReason, logprobs: null }],
    ...(includeUsage ? { usage: null } : {}),
  };
}

export function completionUsageChunk(ident: CompletionIdentity, usage: Usage | undefined) {
  return {
    id: ident.id,
    object: 'text_completion' as const,
    created: ident.created,
    model: ident.model,
    choices: [],
    usage: usage ? toOpenAIUsage(usage) : null,
  };
}
