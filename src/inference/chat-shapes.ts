/**
 * OpenAI response objects for chat completions: the `chat.completion` body and the
 * `chat.completion.chunk` stream (a role chunk, content chunks, the usage chunk). Pure
 * functions of their inputs, like openai-shapes.ts for text completions.
 */
import type { FinishReason } from '../triton/types.js';
import type { Usage } from './observer.js';
import { toOpenAIUsage, type CompletionIdentity } from './openai-shapes.js';

export function chatCompletionBody(ident: CompletionIdentity, content: string, finishReason: FinishReason, usage: Usage | undefined) {
  return {
    id: ident.id,
    object: 'chat.completion' as const,
    created: ident.created,
    model: ident.model,
    choices: [{ index: 0, message: { role: 'assistant' as const, content, refusal: null }, finish_reason: finishReason, logprobs: null }],
    ...(usage ? { usage: toOpenAIUsage(usage) } : {}),
  };
}

type ChunkDelta = { role: 'assistant'; content: string } | { content: string } | Record<string, never>;

function chunk(ident: CompletionIdentity, delta: ChunkDelta, finishReason: FinishReason | null, includeUsage: boolean) {
  return {
    id: ident.id,
    object: 'chat.completion.chunk' as const,
    created: ident.created,
    model: ident.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    // With include_usage every chunk but the last carries `usage: null`, as OpenAI does.
    ...(includeUsage ? { usage: null } : {}),
  };
}

/** The first chunk: it names the speaker and carries no text yet. */
export function chatRoleChunk(ident: CompletionIdentity, includeUsage: boolean) {
  return chunk(ident, { role: 'assistant', content: '' }, null, includeUsage);
}

/** A content delta; the last one carries the finish reason (with an empty delta when there is no text left). */
export function chatContentChunk(ident: CompletionIdentity, text: string, finishReason: FinishReason | null, includeUsage: boolean) {
  return chunk(ident, text.length > 0 ? { content: text } : {}, finishReason, includeUsage);
}

export function chatUsageChunk(ident: CompletionIdentity, usage: Usage | undefined) {
  return {
    id: ident.id,
    object: 'chat.completion.chunk' as const,
    created: ident.created,
    model: ident.model,
    choices: [],
    usage: usage ? toOpenAIUsage(usage) : null,
  };
}
