/**
 * Chat completions through the official `openai` npm client against the real gateway and the
 * real simulator: each model renders the messages with its own template, and Triton receives
 * exactly that prompt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { loadChatTemplate, type TemplateMessage } from '../../src/inference/chat-template.js';
import { startStack, type Stack } from '../helpers/stack.js';

const llama3 = { file: 'examples/chat-templates/llama-3.jinja' };
const chatml = { file: 'examples/chat-templates/chatml.jinja' };

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack({
    config: {
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', maxTokens: 512, chatTemplate: llama3 },
        { name: 'qwen3', tritonModel: 'qwen3-vllm', maxTokens: 512, chatTemplate: chatml },
      ],
    },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => stack.close());

const conversation: TemplateMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Tell me about the sea' },
];

/** The text_input of the one request the simulator received since the last reset. */
function receivedPrompt(tritonModel: string): string {
  const requests = stack.sim.received().filter((r) => r.model === tritonModel);
  assert.equal(requests.length, 1, `one request reached ${tritonModel}`);
  return requests[0]!.inputs.text_input!.values[0] as string;
}

for (const [model, tritonModel, template] of [
  ['llama-3-8b', 'llama-3-8b-trtllm', llama3],
  ['qwen3', 'qwen3-vllm', chatml],
] as const) {
  describe(`chat on ${model}`, () => {
    test('answers with an assistant message, exact usage and a finish reason; Triton gets the rendered prompt', async () => {
      stack.sim.reset();
      const res = await client.chat.completions.create({ model, messages: conversation, max_tokens: 8, temperature: 0, seed: 1 });
      assert.equal(res.object, 'chat.completion');
      assert.match(res.id, /^chatcmpl-/);
      assert.equal(res.model, model);
      assert.equal(res.choices.length, 1);
      const choice = res.choices[0]!;
      assert.equal(choice.message.role, 'assistant');
      assert.ok((choice.message.content ?? '').length > 0);
      assert.equal(choice.finish_reason, 'length');
      assert.ok(res.usage);
      assert.equal(res.usage.completion_tokens, 8);
      assert.ok(res.usage.prompt_tokens > 0);
      assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);

      const expected = loadChatTemplate(template).render(conversation);
      assert.equal(receivedPrompt(tritonModel), expected);
    });

    test('the streamed content concatenates to the non-streamed content at temperature 0 with a seed', async () => {
      const params = { model, messages: conversation, max_tokens: 12, temperature: 0, seed: 7 } as const;
      const whole = await client.chat.completions.create(params);
      const stream = await client.chat.completions.create({ ...params, stream: true });
      let content = '';
      const roles: Array<{ index: number; role: string }> = [];
      const finishes: Array<{ index: number; reason: string }> = [];
      let chunks = 0;
      for await (const chunk of stream) {
        assert.equal(chunk.object, 'chat.completion.chunk');
        assert.equal(chunk.usage ?? null, null);
        const choice = chunk.choices[0]!;
        if (choice.delta.role) roles.push({ index: chunks, role: choice.delta.role });
        content += choice.delta.content ?? '';
        if (choice.finish_reason) finishes.push({ index: chunks, reason: choice.finish_reason });
        chunks += 1;
      }
      assert.equal(content, whole.choices[0]!.message.content);
      assert.deepEqual(roles, [{ index: 0, role: 'assistant' }], 'the role comes once, in the first chunk');
      assert.ok(chunks > 2, 'a role chunk and several content chunks');
      assert.equal(finishes.length, 1, 'finish_reason exactly once');
      assert.equal(finishes[0]!.index, chunks - 1, 'finish_reason in the last chunk');
      assert.equal(finishes[0]!.reason, whole.choices[0]!.finish_reason);
    });

    test('include_usage adds exactly one last chunk with no choices and the non-streamed usage', async () => {
      const params = { model, messages: conversation, max_tokens: 10, temperature: 0, seed: 3 } as const;
      const whole = await client.chat.completions.create(params);
      const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const withUsage = chunks.filter((c) => c.usage);
      assert.equal(withUsage.length, 1);
      const last = chunks.at(-1)!;
      assert.equal(last, withUsage[0]);
      assert.deepEqual(last.choices, []);
      assert.deepEqual(last.usage, whole.usage);
      for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null, 'every other chunk has usage: null');
      assert.equal(chunks.slice(0, -1).map((c) => c.choices[0]!.delta.content ?? '').join(''), whole.choices[0]!.message.content);
    });

    test('max_completion_tokens wins over max_tokens', async () => {
      const res = await client.chat.completions.create({ model, messages: conversation, max_tokens: 50, max_completion_tokens: 1, temperature: 0 });
      assert.equal(res.usage!.completion_tokens, 1);
      assert.equal(res.choices[0]!.finish_reason, 'length');
    });
  });
}

test('content parts and a multi-turn conversation reach Triton as the template renders them', async () => {
  stack.sim.reset();
  await client.chat.completions.create({
    model: 'qwen3',
    max_tokens: 2,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'there' }] },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Name a colour.' },
    ],
  });
  assert.equal(
    receivedPrompt('qwen3-vllm'),
    '<|im_start|>user\nHi\nthere<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n',
  );
});

describe('response_format json_schema reaches the backend as its guided-decoding input', () => {
  const schema = { type: 'object', properties: { colour: { type: 'string' } }, required: ['colour'] };
  const responseFormat = { type: 'json_schema', json_schema: { name: 'colour', schema } } as const;

  test('TRT-LLM: guided_decoding_guide_type and guided_decoding_guide', async () => {
    stack.sim.reset();
    await client.chat.completions.create({ model: 'llama-3-8b', messages: conversation, max_tokens: 2, response_format: responseFormat });
    const received = stack.sim.received().find((r) => r.model === 'llama-3-8b-trtllm')!;
    assert.deepEqual(received.inputs.guided_decoding_guide_type!.values, ['json_schema']);
    assert.deepEqual(JSON.parse(received.inputs.guided_decoding_guide!.values[0] as string), schema);
  });

  test('vLLM: structured_outputs inside sampling_parameters', async () => {
    stack.sim.reset();
    await client.chat.completions.create({ model: 'qwen3', messages: conversation, max_tokens: 2, response_format: responseFormat });
    const received = stack.sim.received().find((r) => r.model === 'qwen3-vllm')!;
    const sampling = JSON.parse(received.inputs.sampling_parameters!.values[0] as string) as { structured_outputs: string };
    assert.deepEqual(JSON.parse(sampling.structured_outputs), { json: schema });
  });

  test('json_object and text: guided JSON, and nothing', async () => {
    stack.sim.reset();
    await client.chat.completions.create({ model: 'llama-3-8b', messages: conversation, max_tokens: 2, response_format: { type: 'json_object' } });
    await client.chat.completions.create({ model: 'qwen3', messages: conversation, max_tokens: 2, response_format: { type: 'text' } });
    const [trt, vllm] = [stack.sim.received().find((r) => r.model === 'llama-3-8b-trtllm')!, stack.sim.received().find((r) => r.model === 'qwen3-vllm')!];
    assert.deepEqual(trt.inputs.guided_decoding_guide_type!.values, ['json']);
    assert.equal('structured_outputs' in JSON.parse(vllm.inputs.sampling_parameters!.values[0] as string), false);
  });
});

test('chat has its own route label in the metrics and the chat GenAI operation', async () => {
  await client.chat.completions.create({ model: 'qwen3', messages: conversation, max_tokens: 2 });
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  assert.match(text, /http_requests_total\{method="POST",endpoint="\/v1\/chat\/completions",status="200"\} [1-9]/);
  assert.match(text, /gen_ai_client_operation_duration_seconds_count\{[^}]*gen_ai_operation_name="chat"[^}]*\} [1-9]/);
});
