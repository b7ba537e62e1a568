/**
 * POST /v1/completions — OpenAI text completions, non-streamed or as SSE.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { GatewayError } from '../errors.js';
import { completionBody, completionChunk, completionUsageChunk, type CompletionIdentity } from '../inference/openai-shapes.js';
import type { GatewayServices } from '../services.js';
import { completionRequestSchema, type CompletionRequestBody } from '../schemas/completions.js';
import type { GenerationRequest } from '../triton/types.js';
import { apiKeyGuard } from '../plugins/auth.js';
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

/** Rejects what OpenAI defines but the gateway cannot honour, naming the field. */
function rejectUnsupported(body: CompletionRequestBody): string {
  const unsupported = (param: string, message: string): GatewayError => new GatewayError('unsupported_parameter', message, { param });
  if (body.n != null && body.n > 1) throw unsupported('n', `n=${body.n} is not supported; only n=1`);
  if (body.best_of != null && body.best_of > 1) throw unsupported('best_of', `best_of=${body.best_of} is not supported; only best_of=1`);
  if (body.logit_bias != null && Object.keys(body.logit_bias).length > 0) throw unsupported('logit_bias', 'logit_bias is not supported');
  if (body.suffix != null) throw unsupported('suffix', 'suffix is not supported');
  if (body.logprobs != null && body.logprobs > 0) throw unsupported('logprobs', 'logprobs are not supported');
  if (body.stream_options != null && body.stream !== true) {
    throw new GatewayError('invalid_request', 'stream_options can only be set when stream is true', { param: 'stream_options' });
  }
  let prompt = body.prompt;
  if (Array.isArray(prompt)) {
    if (prompt.length !== 1 || typeof prompt[0] !== 'string') {
      throw unsupported('prompt', 'prompt must be a string or an array of exactly one string; token arrays and batches are not supported');
    }
    prompt = prompt[0];
  }
  if (prompt.length === 0) throw new GatewayError('invalid_request', 'prompt must be non-empty', { param: 'prompt' });
  return prompt;
}

export function completionsRoutes(services: GatewayServices) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    typed.post(
      '/v1/completions',
      { schema: { body: completionRequestSchema }, onRequest: apiKeyGuard(services.config.auth.apiKeys) },
      async (request, reply) => {
        const body = request.body;
        const prompt = rejectUnsupported(body);
        checkPromptLength(services, prompt, 'prompt');
        const entry = resolveModel(services, body.model);
        const stream = body.stream === true;
        const deadline = requestedDeadline(request, entry);
        const ctx = await beginInference(services, request, reply, entry, 'text_completion', stream, prompt.length, deadline);
        return runInference(ctx, stream, async (relaying) => {
          const generationRequest: GenerationRequest = {
            prompt,
            maxTokens: governMaxTokens(services, entry, body.max_tokens, body.min_tokens, ctx.observer),
            stream,
            echo: body.echo === true,
            ...samplingFromBody(body),
          };
          const call = { entry, request: generationRequest, signal: ctx.signal, observer: ctx.observer, requestDeadlineAt: deadline, endpoint: '/v1/completions' };

          if (!stream) {
            return await withResponseCache(services, reply, ctx.observer, 'text_completion', entry.config.name, generationRequest, async () => {
              const { generation, done } = await services.router.run(call, async (g) => ({ generation: g, done: await collect(g, generationRequest.maxTokens, ctx) }));
              const ident: CompletionIdentity = { id: newCompletionId('cmpl'), created: Math.floor(Date.now() / 1000), model: generation.servedModel };
              setServedHeaders(reply, generation);
              const text = generationRequest.echo ? prompt + done.text : done.text;
              return { body: completionBody(ident, text, done.finishReason, done.accumulator.usage()), servedModel: generation.servedModel };
            });
          }

          const generation = await services.router.run(call, async (g) => g);
          const ident: CompletionIdentity = { id: newCompletionId('cmpl'), created: Math.floor(Date.now() / 1000), model: generation.servedModel };
          const includeUsage = body.stream_options?.include_usage === true;
          relaying();
          const frame = textChunkFramer((text, finish) => completionChunk(ident, text, finish, includeUsage));
          return relayStream(reply, generation, generationRequest, ctx, {
            delta: (delta, first, finish) => {
              const text = first && generationRequest.echo ? prompt + delta.text : delta.text;
              // Empty non-final responses carry nothing for the client.
              if (text.length === 0 && finish === null) return '';
              return frame(text, finish);
            },
            end: (acc) => (includeUsage ? sseData(completionUsageChunk(ident, acc.usage())) : ''),
          });
        });
      },
    );
  };
}
