/**
 * The OpenAI `/v1/completions` request body. Strict: an unknown field is a 400 that names it.
 * Fields OpenAI defines but the gateway cannot honour are accepted by the schema only so that
 * the route can answer with a precise "not supported" message instead of "unknown field".
 */
import { z } from 'zod';

const stopSchema = z.union([z.string(), z.array(z.string()).max(4, 'at most 4 stop sequences')]);

export const completionRequestSchema = z
  .object({
    model: z.string().min(1),
    prompt: z.union([z.string(), z.array(z.unknown())]),
    max_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    top_k: z.number().int().min(0).nullish(),
    min_tokens: z.number().int().min(0).nullish(),
    n: z.number().int().min(1).nullish(),
    best_of: z.number().int().min(0).nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullish(),
    stop: stopSchema.nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    repetition_penalty: z.number().gt(0).max(10).nullish(),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
    echo: z.boolean().nullish(),
    user: z.string().max(256).nullish(),
    logprobs: z.number().int().min(0).max(5).nullish(),
    logit_bias: z.record(z.string(), z.number()).nullish(),
    suffix: z.string().nullish(),
  })
  .strict();

export type CompletionRequestBody = z.infer<typeof completionRequestSchema>;
