/**
 * The sampling fields /v1/completions and /v1/chat/completions share, with OpenAI's ranges, and
 * their one mapping onto the gateway's GenerationRequest.
 */
import { z } from 'zod';
import type { GenerationRequest } from '../triton/types.js';

// An empty stop sequence means nothing, and vLLM refuses it. The upper bound keeps a stop list
// from carrying more text to Triton than maxPromptChars lets a prompt carry.
const MAX_STOP_CHARS = 1_000;
const stopSequence = z.string().min(1, 'a stop sequence must not be empty').max(MAX_STOP_CHARS, `a stop sequence is at most ${MAX_STOP_CHARS} characters`);
const stopSchema = z.union([stopSequence, z.array(stopSequence).max(4, 'at most 4 stop sequences')]);

export const samplingFields = {
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  min_tokens: z.number().int().min(0).nullish(),
  n: z.number().int().min(1).nullish(),
  stream: z.boolean().nullish(),
  // include_obfuscation: the gateway adds no obfuscation padding to its chunks, so there is none to turn off.
  stream_options: z.object({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() }).strict().nullish(),
  stop: stopSchema.nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().gt(0).max(10).nullish(),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
  user: z.string().max(256).nullish(),
};

type SamplingBody = { [K in keyof typeof samplingFields]?: z.infer<(typeof samplingFields)[K]> };

/** The sampling part of a GenerationRequest (prompt, limits and stream are the route's). */
export function samplingFromBody(body: SamplingBody): Pick<
  GenerationRequest,
  'temperature' | 'topP' | 'topK' | 'seed' | 'stop' | 'presencePenalty' | 'frequencyPenalty' | 'repetitionPenalty' | 'minTokens'
> {
  return {
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    topK: body.top_k ?? undefined,
    seed: body.seed ?? undefined,
    stop: body.stop == null ? undefined : typeof body.stop === 'string' ? [body.stop] : body.stop,
    presencePenalty: body.presence_penalty ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    repetitionPenalty: body.repetition_penalty ?? undefined,
    minTokens: body.min_tokens ?? undefined,
  };
}
