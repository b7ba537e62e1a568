/**
 * POST /v1/chat/completions — OpenAI chat completions, non-streamed or as SSE. Triton's LLM
 * models take one text prompt, so the messages are rendered with the serving model's own chat
 * template (src/inference/chat-template.ts); a fallback model renders them with its own.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ModelConfig } from '../config.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { chatCompletionBody, chatContentChunk, chatRoleChunk, chatUsageChunk } from '../inference/chat-shapes.js';
import { ChatTemplates, toTemplateMessages, type TemplateMessage } from '../inference/chat-template.js';
import type { GenerateCall } from '../inference/generation.js';
import type { ModelEntry } from '../inference/model-registry.js';
import type { CompletionIdentity } from '../inference/openai-shapes.js';
import { apiKeyGuard } from '../plugins/auth.js';
import { chatCompletionRequestSchema, type ChatCompletionRequestBody, type ResponseFormat } from '../schemas/chat-completions.js';
import type { GatewayServices } from '../services.js';
import type { GenerationRequest, GuidedDecoding, ModelSchema } from '../triton/types.js';
import {
  beginInference,
  checkPromptLength,
  collect,
  governMaxTokens,
  newCompletionId,
  relayStream,
  requestedDeadline,
  resolveModel,
  runInference,
  setServedHeaders,
  withResponseCache,
} from './inference-request.js';
import { samplingFromBody } from '../schemas/sampling.js';
import { sseData, textChunkFramer } from './sse.js';

const ENDPOINT = '/v1/chat/completions';

/** Rejects what OpenAI defines but the gateway cannot honour (yet), naming the field. */
function rejectUnsupported(body: ChatCompletionRequestBody): void {
  const unsupported = (param: string, message: string): GatewayError => new GatewayError('unsupported_parameter', message, { param });
  if (body.n != null && body.n > 1) throw unsupported('n', `n=${body.n} is not supported; only n=1`);
  // An empty logit_bias and top_logprobs 0 ask for nothing, as tools: [] does.
  if (body.logit_bias != null && Object.keys(body.logit_bias).length > 0) throw unsupported('logit_bias', 'logit_bias is not supported');
  if (body.logprobs === true) throw unsupported('logprobs', 'logprobs are not supported');
  if (body.top_logprobs != null && body.top_logprobs > 0) throw unsupported('top_logprobs', 'top_logprobs is not supported');
  if (body.tools != null && body.tools.length > 0) throw unsupported('tools', 'tools are not supported yet: the gateway does not do tool calling');
  if (body.tool_choice != null && body.tool_choice !== 'none') {
    throw unsupported('tool_choice', 'tool_choice is not supported yet: the gateway does not do tool calling');
  }
  if (body.functions != null) throw unsupported('functions', 'functions are not supported yet: the gateway does not do tool calling');
  if (body.function_call != null) throw unsupported('function_call', 'function_call is not supported yet: the gateway does not do tool calling');
  if (body.stream_options != null && body.stream !== true) {
    throw new GatewayError('invalid_request', 'stream_options can only be set when stream is true', { param: 'stream_options' });
  }
}

/** response_format → the backend's guided decoding (shared/triton-protocol.md §4.1, §5). */
function toGuidedDecoding(format: ResponseFormat | null | undefined): GuidedDecoding | undefined {
  if (format == null || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json', guide: '' };
  if (format.type === 'json_schema') {
    const schema = format.json_schema?.schema;
    if (schema === undefined) {
      throw new GatewayError('invalid_request', "response_format of type 'json_schema' needs json_schema.schema", { param: 'response_format.json_schema.schema' });
    }
    return { type: 'json_schema', guide: JSON.stringify(schema) };
  }
  throw new GatewayError('unsupported_parameter', `response_format type '${format.type}' is not supported; use text, json_object or json_schema`, {
    param: 'response_format.type',
  });
}

/**
 * Whether the deployment has the inputs guided decoding needs (the codecs would otherwise fail
 * the call): TRT-LLM's guided_decoding_guide_type/guided_decoding_guide, vLLM's JSON
 * sampling_parameters (which carry structured_outputs).
 */
function supportsGuidedDecoding(schema: ModelSchema): boolean {
  if (schema.flavour === 'vllm') return schema.inputs.has('sampling_parameters');
  return schema.inputs.has('guided_decoding_guide_type') && schema.inputs.has('guided_decoding_guide');
}

/** Why `route` cannot do the guided decoding asked for, or undefined when it can (or its schema is not known yet). */
function guidedDecodingProblem(route: ModelEntry, guided: GuidedDecoding | undefined): string | undefined {
  if (!guided || !route.schema || supportsGuidedDecoding(route.schema)) return undefined;
  const format = guided.type === 'json' ? 'json_object' : 'json_schema';
  return `response_format '${format}' is not supported by model '${route.config.name}': its Triton model '${route.tritonModel}' has no guided-decoding inputs`;
}

/**
 * The request each route receives: the primary's, prepared before the call, and for a fallback
 * the same request with the prompt rendered by the fallback's own template. A fallback that
 * cannot serve it is skipped (a retryable error moves the router on).
 */
function perRouteRequests(
  templates: ChatTemplates,
  primary: ModelEntry,
  request: GenerationRequest,
  messages: TemplateMessage[],
  maxPromptChars: number,
): (route: ModelEntry) => GenerationRequest {
  const rendered = new Map<ModelEntry, GenerationRequest>([[primary, request]]);
  return (route) => {
    const known = rendered.get(route);
    if (known) return known;
    const cannot = (why: string): GatewayError => new GatewayError('model_not_ready', `The fallback '${route.config.name}' cannot serve this chat request: ${why}`);
    const problem = guidedDecodingProblem(route, request.guidedDecoding);
    if (problem) throw cannot(problem);
    let prompt: string;
    try {
      prompt = templates.render(route.config.name, messages);
    } catch (err) {
      throw cannot((err as Error).message);
    }
    // The limit holds for the prompt Triton gets, whichever template made it: a fallback's may
    // add more than the primary's (a dated system block, a long default system prompt).
    if (prompt.length > maxPromptChars) throw cannot(`its template makes the prompt ${prompt.length} characters; the limit is ${maxPromptChars}`);
    const own = { ...request, prompt };
    rendered.set(route, own);
    return own;
  };
}

/** Start-up notice for a route that cannot carry chat traffic when its primary fails over. */
function warnFallbacksWithoutTemplates(log: FastifyBaseLogger, models: readonly ModelConfig[], templates: ChatTemplates): void {
  for (const model of models) {
    if (!templates.has(model.name)) continue;
    for (const fallback of model.fallbacks) {
      if (!templates.has(fallback)) {
        log.warn({ model: model.name, fallback }, 'fallback model has no chat template: chat requests will not fail over to it');
      }
    }
  }
}

/** Triton's context-length error names the prompt; a chat client sent messages. */
function asChatError(err: unknown): never {
  if (isGatewayError(err) && err.code === 'context_length_exceeded' && err.param === 'prompt') {
    throw new GatewayError(err.code, err.message, { param: 'messages', upstreamFault: err.upstreamFault });
  }
  throw err;
}

export function chatCompletionsRoutes(services: GatewayServices) {
  // Loaded once, when the app is built: a missing or broken template stops the start-up.
  const templates = ChatTemplates.load(services.config.models);
  return async function routes(app: FastifyInstance): Promise<void> {
    warnFallbacksWithoutTemplates(app.log, services.config.models, templates);
    const typed = app.withTypeProvider<ZodTypeProvider>();
    typed.post(
      ENDPOINT,
      { schema: { body: chatCompletionRequestSchema }, onRequest: apiKeyGuard(services.config.auth.apiKeys) },
      async (request, reply) => {
        const body = request.body;
        rejectUnsupported(body);
        const messages = toTemplateMessages(body.messages);
        // The rendered prompt is never shorter than the messages' text: a conversation already too
        // long is refused before the template spends the event loop on it.
        checkPromptLength(services, messages.reduce((text, m) => text + m.content.length + (m.name?.length ?? 0), 0), 'messages');
        const entry = resolveModel(services, body.model);
        const guidedDecoding = toGuidedDecoding(body.response_format);
        // A model without a template, or that cannot do the response_format, is a 400 before any call to Triton.
        const prompt = templates.render(entry.config.name, messages);
        const guidedProblem = guidedDecodingProblem(entry, guidedDecoding);
        if (guidedProblem) throw new GatewayError('unsupported_parameter', guidedProblem, { param: 'response_format' });
        checkPromptLength(services, prompt, 'messages');
        const stream = body.stream === true;
        const deadline = requestedDeadline(request, entry);
        const ctx = await beginInference(services, request, reply, entry, 'chat', stream, prompt.length, deadline);
        const answer = runInference(ctx, stream, async (relaying) => {
          const generationRequest: GenerationRequest = {
            prompt,
            // max_completion_tokens is OpenAI's current name; it wins over the deprecated max_tokens.
            maxTokens: governMaxTokens(
              services,
              entry,
              body.max_completion_tokens ?? body.max_tokens,
              body.min_tokens,
              ctx.observer,
              body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens',
            ),
            stream,
            echo: false,
            ...samplingFromBody(body),
            ...(guidedDecoding ? { guidedDecoding } : {}),
          };
          const call: GenerateCall = {
            entry,
            request: generationRequest,
            signal: ctx.signal,
            observer: ctx.observer,
            requestDeadlineAt: deadline,
            endpoint: ENDPOINT,
            requestFor: perRouteRequests(templates, entry, generationRequest, messages, services.controls.maxPromptChars),
          };
          const identity = (servedModel: string): CompletionIdentity => ({
            id: newCompletionId('chatcmpl'),
            created: Math.floor(Date.now() / 1000),
            model: servedModel,
          });

          if (!stream) {
            return await withResponseCache(services, reply, ctx.observer, 'chat', entry.config.name, generationRequest, async () => {
              const { generation, done } = await services.router.run(call, async (g) => ({ generation: g, done: await collect(g, generationRequest.maxTokens, ctx) }));
              setServedHeaders(reply, generation);
              const chatBody = chatCompletionBody(identity(generation.servedModel), done.text, done.finishReason, done.accumulator.usage());
              return { body: chatBody, servedModel: generation.servedModel };
            });
          }

          const generation = await services.router.run(call, async (g) => g);
          const ident = identity(generation.servedModel);
          const includeUsage = body.stream_options?.include_usage === true;
          relaying();
          const frame = textChunkFramer((text, finish) => chatContentChunk(ident, text, finish, includeUsage));
          return relayStream(reply, generation, generationRequest, ctx, {
            delta: (delta, first, finish) => {
              let frames = first ? sseData(chatRoleChunk(ident, includeUsage)) : '';
              // Empty non-final responses carry nothing for the client.
              if (delta.text.length > 0 || finish !== null) frames += frame(delta.text, finish);
              return frames;
            },
            end: (acc) => (includeUsage ? sseData(chatUsageChunk(ident, acc.usage())) : ''),
          });
        });
        return answer.catch(asChatError);
      },
    );
  };
}
