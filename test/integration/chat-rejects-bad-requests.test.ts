/**
 * Every way a chat request can be wrong gets a 400 in the OpenAI envelope that names the field
 * and the problem — before anything reaches Triton, never a 500.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;

before(async () => {
  stack = await startStack({
    config: {
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', chatTemplate: { file: 'examples/chat-templates/llama-3.jinja' } },
        { name: 'no-template', tritonModel: 'qwen3-vllm' },
        // The LLM-API deployment has no guided-decoding inputs (and reports no token counts, which a warm-up needs).
        { name: 'llmapi', tritonModel: 'llama-3-8b-llmapi', warmup: false, chatTemplate: { file: 'examples/chat-templates/llama-3.jinja' } },
        { name: 'strict', tritonModel: 'qwen3-vllm', maxTokens: 64, tokenBudgetAction: 'reject', chatTemplate: { file: 'examples/chat-templates/chatml.jinja' } },
        {
          name: 'picky',
          tritonModel: 'qwen3-vllm',
          chatTemplate: { inline: "{% if messages[0].role != 'system' %}{{ raise_exception('the first message must be a system message') }}{% endif %}x" },
        },
      ],
    },
  });
});
after(async () => stack.close());

async function post(body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: JSON.parse(await res.text()) };
}

const user = [{ role: 'user', content: 'hi' }];
const valid = { model: 'llama-3-8b', messages: user, max_tokens: 2 };

const cases: Array<[string, unknown, string, RegExp]> = [
  ['empty messages', { ...valid, messages: [] }, 'messages', /at least one message/],
  ['more messages than any conversation has', { ...valid, messages: Array.from({ length: 1025 }, () => ({ role: 'user', content: 'a' })) }, 'messages', /at most 1024 messages/],
  // 'picky' refuses a conversation without a system message, but only once it renders: the length
  // is checked on the messages' text first, so the template never runs on an oversized conversation.
  ['messages whose text alone is over the prompt limit', { ...valid, model: 'picky', messages: [{ role: 'user', content: 'x'.repeat(100_001) }] }, 'messages', /The prompt is 100001 characters; the limit is 100000/],
  ['missing messages', { model: 'llama-3-8b' }, 'messages', /Missing required parameter/],
  ['an unknown role', { ...valid, messages: [{ role: 'robot', content: 'x' }] }, 'messages.0.role', /unknown role 'robot'/],
  ['a message without content', { ...valid, messages: [{ role: 'system', content: 's' }, { role: 'user' }] }, 'messages.1.content', /messages\.1 has no content/],
  ['a message whose content is a number', { ...valid, messages: [{ role: 'user', content: 5 }] }, 'messages.0.content', /expected string or array/],
  ['a message with null content', { ...valid, messages: [{ role: 'user', content: null }] }, 'messages.0.content', /has no content/],
  ['an image part', { ...valid, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x' } }] }] }, 'messages.0.content.0.type', /only text/],
  ['an unknown field in a message', { ...valid, messages: [{ role: 'user', content: 'x', mood: 'sad' }] }, 'messages.0.mood', /Unrecognized/],
  ['a model without a template', { ...valid, model: 'no-template' }, 'model', /'no-template' has no chat template/],
  ['a template that rejects the conversation', { ...valid, model: 'picky' }, 'messages', /the first message must be a system message/],
  ['tools', { ...valid, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }, 'tools', /not supported yet/],
  ['tool_choice', { ...valid, tool_choice: 'auto' }, 'tool_choice', /not supported yet/],
  ['a tool message', { ...valid, messages: [...user, { role: 'tool', content: '42', tool_call_id: 'c1' }] }, 'messages.1.role', /not supported yet/],
  ['an unknown response_format type', { ...valid, response_format: { type: 'regex' } }, 'response_format.type', /'regex' is not supported/],
  ['json_schema without a schema', { ...valid, response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format.json_schema.schema', /needs json_schema\.schema/],
  [
    'json_schema on a deployment without guided decoding',
    { ...valid, model: 'llmapi', response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } },
    'response_format',
    /not supported by model 'llmapi'.*no guided-decoding inputs/,
  ],
  ['n above 1', { ...valid, n: 2 }, 'n', /only n=1/],
  ['logprobs', { ...valid, logprobs: true }, 'logprobs', /not supported/],
  ['a non-empty logit_bias', { ...valid, logit_bias: { '50256': -100 } }, 'logit_bias', /not supported/],
  ['top_logprobs above 0', { ...valid, top_logprobs: 2 }, 'top_logprobs', /not supported/],
  ['metadata with too many keys', { ...valid, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata', /at most 16 keys/],
  ["an Anthropic-style cache_control on a message", { ...valid, messages: [{ role: 'user', content: 'x', cache_control: { type: 'ephemeral' } }] }, 'messages.0.cache_control', /Unrecognized/],
  ['stream_options without stream', { ...valid, stream_options: { include_usage: true } }, 'stream_options', /only be set when stream is true/],
  ['an unknown field', { ...valid, prompt: 'x' }, 'prompt', /Unrecognized request argument supplied: prompt/],
  ['temperature above 2', { ...valid, temperature: 3 }, 'temperature', /temperature/],
  ['max_completion_tokens of 0', { ...valid, max_completion_tokens: 0 }, 'max_completion_tokens', /max_completion_tokens/],
  ['max_completion_tokens over the limit of a model that rejects', { ...valid, model: 'strict', max_completion_tokens: 100 }, 'max_completion_tokens', /max_completion_tokens 100 exceeds the limit of 64/],
  ['max_tokens over the limit of a model that rejects', { ...valid, model: 'strict', max_tokens: 100 }, 'max_tokens', /max_tokens 100 exceeds the limit of 64/],
];

test('each invalid chat request is a 400 naming the field and the problem, and never reaches Triton', async (t) => {
  stack.sim.reset();
  for (const [name, body, param, message] of cases) {
    await t.test(name, async () => {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.type, 'invalid_request_error');
      assert.equal(res.body.error.param, param);
      assert.match(res.body.error.message, message);
      assert.ok(!/\n\s+at /.test(JSON.stringify(res.body)), 'no stack trace');
    });
  }
  assert.deepEqual(stack.sim.received(), [], 'no request reached the simulator');
});

test("messages within the prompt limit whose rendered prompt is not are a 400 naming the messages, and never reach Triton", async () => {
  const limit = stack.config.server.maxPromptChars;
  // Ten characters under the limit: the template's headers (about 80 characters for one user
  // message) push the prompt Triton would get over it.
  const content = 'x'.repeat(limit - 10);
  stack.sim.reset();
  const res = await post({ ...valid, messages: [{ role: 'user', content }] });
  assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 300));
  assert.equal(res.body.error.param, 'messages');
  const [, length] = /^The prompt is (\d+) characters; the limit is (\d+)$/.exec(res.body.error.message) ?? [];
  assert.ok(Number(length) > limit, `the rendered prompt's length is reported: ${res.body.error.message}`);
  assert.deepEqual(stack.sim.received(), [], 'no request reached the simulator');
});

test('a json_schema nested too deep is a 400 naming the schema, not a 500', async () => {
  // 100,000 levels parse as JSON (well under the body limit) but would overflow the stack when serialised.
  const depth = 100_000;
  const schema = '{"a":' + '['.repeat(depth) + ']'.repeat(depth) + '}';
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"model":"llama-3-8b","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${schema}}}}`,
  });
  const body = JSON.parse(await res.text());
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.error.code, 'invalid_request');
  assert.equal(body.error.param, 'response_format.json_schema.schema');
  assert.match(body.error.message, /deeper than 64 levels/);
  assert.deepEqual(stack.logs.find('request failed'), [], 'not logged as a server failure');
});

test("a content part whose type is nested arrays is a 400 naming the part, not a 500", async () => {
  // String() of 50,000 nested arrays recursed until the stack ran out.
  const depth = 50_000;
  const type = '['.repeat(depth) + ']'.repeat(depth);
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"model":"llama-3-8b","messages":[{"role":"user","content":[{"type":${type},"text":"x"}]}]}`,
  });
  const body = JSON.parse(await res.text());
  assert.equal(res.status, 400, JSON.stringify(body).slice(0, 300));
  assert.equal(body.error.param, 'messages.0.content.0.type');
  assert.match(body.error.message, /content parts of type of JSON type array are not supported; only text/);
  assert.deepEqual(stack.logs.find('request failed'), [], 'not logged as a server failure');
});

test("OpenAI's storage and billing hints, and values that ask for nothing, are accepted and change nothing", async () => {
  // What the openai SDK's types define and frameworks send on every call.
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const hints = { store: false, metadata: { team: 'search' }, service_tier: 'auto', safety_identifier: 'user-7f3a', prompt_cache_key: 'faq-v2' } as const;
  const plain = await client.chat.completions.create({ ...valid, messages: [{ role: 'user', content: 'hi' }], temperature: 0, seed: 3 });
  const hinted = await client.chat.completions.create({
    ...valid,
    messages: [{ role: 'user', content: 'hi' }],
    temperature: 0,
    seed: 3,
    ...hints,
    logit_bias: {},
    top_logprobs: 0,
  });
  assert.equal(hinted.choices[0]!.message.content, plain.choices[0]!.message.content, 'the same answer');
  const stream = await client.chat.completions.create({
    ...valid,
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true, include_obfuscation: false },
  });
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) usage ??= chunk.usage;
  assert.equal(usage?.completion_tokens, 2);
});

test("Triton's context-length refusal names the messages, without the executor's wrapping", async (t) => {
  t.after(() => stack.sim.clearFaults());
  stack.sim.setFault('llama-3-8b-trtllm', {
    kind: 'error',
    code: 'INTERNAL',
    message: "in ensemble 'llama-3-8b-trtllm', Executor failed process requestId 3 due to the following error: Prompt length (45001) exceeds maximum input length (8192).",
  });
  const res = await post(valid);
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 'context_length_exceeded');
  assert.equal(res.body.error.param, 'messages');
  assert.equal(res.body.error.message, 'Prompt length (45001) exceeds maximum input length (8192).');
});

test('an unknown model is a 404', async () => {
  const res = await post({ ...valid, model: 'gpt-99' });
  assert.equal(res.status, 404);
  assert.equal(res.body.error.param, 'model');
});

test('the openai client surfaces these as BadRequestError', async () => {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  await assert.rejects(
    client.chat.completions.create({ model: 'no-template', messages: [{ role: 'user', content: 'hi' }] }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && /has no chat template/.test(err.message),
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true } }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && /stream_options/.test(err.message),
  );
});
