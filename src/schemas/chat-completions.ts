/**
 * The OpenAI `/v1/chat/completions` request body. Strict: an unknown field is a 400 that names it.
 * Fields OpenAI defines but the gateway cannot honour yet (tools, logprobs, ...) are accepted by
 * the schema only so that the route can answer with a precise "not supported" message.
 *
 * Message roles and content parts are checked by the route rather than here, so that an unknown
 * role or a non-text part gets a message that says what is wrong instead of a union mismatch.
 */
import { z } from 'zod';
import { samplingFields } from './sampling.js';

const messageSchema = z
  .object({
    role: z.string(),
    content: z.union([z.string(), z.array(z.record(z.string(), z.unknown()))]).nullish(),
    name: z.string().nullish(),
    refusal: z.string().nullish(),
    tool_calls: z.array(z.unknown()).nullish(),
    tool_call_id: z.string().nullish(),
    function_call: z.unknown().nullish(),
  })
  .strict();

/**
 * Deepest nesting of objects and arrays a json_schema may have. Real schemas stay far below it;
 * a deeper one is refused here, because turning it into the backend's guide (JSON.stringify
 * recurses) would exhaust the stack and answer a client's mistake with a 500.
 */
export const MAX_JSON_SCHEMA_DEPTH = 64;

/** Whether `value` nests objects or arrays deeper than `limit`; iterative, so it cannot overflow the stack itself. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

const jsonSchemaSchema = z
  .record(z.string(), z.unknown())
  .refine((schema) => !nestsDeeperThan(schema, MAX_JSON_SCHEMA_DEPTH), `the schema nests objects and arrays deeper than ${MAX_JSON_SCHEMA_DEPTH} levels`);

const responseFormatSchema = z
  .object({
    type: z.string(),
    json_schema: z
      .object({
        name: z.string().optional(),
        description: z.string().optional(),
        schema: jsonSchemaSchema.optional(),
        strict: z.boolean().nullish(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * The most messages a chat request may carry. Each costs validation and a turn of the template
 * before the rendered prompt's length can be checked, all on the event loop: 30,000 one-character
 * messages (a 1 MB body) blocked it for ~0.4 s. Far above any real conversation.
 */
export const MAX_CHAT_MESSAGES = 1024;

export const chatCompletionRequestSchema = z
  .object({
    // Bounded so that an unknown model's 404, which names it, stays short.
    model: z.string().min(1).max(256),
    messages: z
      .array(messageSchema)
      .min(1, 'messages must contain at least one message')
      .max(MAX_CHAT_MESSAGES, `messages may contain at most ${MAX_CHAT_MESSAGES} messages`),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    ...samplingFields,
    response_format: responseFormatSchema.nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    logit_bias: z.record(z.string(), z.number()).nullish(),
    tools: z.array(z.unknown()).nullish(),
    tool_choice: z.unknown().optional(),
    parallel_tool_calls: z.boolean().nullish(),
    functions: z.array(z.unknown()).nullish(),
    function_call: z.unknown().optional(),
    // Accepted with no effect: OpenAI's storage and billing hints, which clients and frameworks
    // send on every call and which change nothing in the answer a gateway gives.
    store: z.boolean().nullish(),
    metadata: z
      .record(z.string().max(64), z.string().max(512))
      .refine((m) => Object.keys(m).length <= 16, 'metadata holds at most 16 keys')
      .nullish(),
    service_tier: z.string().max(64).nullish(),
    safety_identifier: z.string().max(256).nullish(),
    prompt_cache_key: z.string().max(1024).nullish(),
  })
  .strict();

export type ChatCompletionRequestBody = z.infer<typeof chatCompletionRequestSchema>;
export type ResponseFormat = NonNullable<ChatCompletionRequestBody['response_format']>;
