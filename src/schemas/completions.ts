/**
 * The OpenAI `/v1/completions` request body. Strict: an unknown field is a 400 that names it.
 * Fields OpenAI defines but the gateway cannot honour are accepted by the schema only so that
 * the route can answer with a precise "not supported" message instead of "unknown field".
 */
import { z } from 'zod';
import { samplingFields } from './sampling.js';

export const completionRequestSchema = z
  .object({
    // Bounded so that an unknown model's 404, which names it, stays short.
    model: z.string().min(1).max(256),
    prompt: z.union([z.string(), z.array(z.unknown())]),
    max_tokens: z.number().int().positive().nullish(),
    ...samplingFields,
    best_of: z.number().int().min(0).nullish(),
    echo: z.boolean().nullish(),
    logprobs: z.number().int().min(0).max(5).nullish(),
    logit_bias: z.record(z.string(), z.number()).nullish(),
    suffix: z.string().nullish(),
  })
  .strict();

export type CompletionRequestBody = z.infer<typeof completionRequestSchema>;
