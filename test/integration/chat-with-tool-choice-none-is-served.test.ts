/**
 * `tool_choice: "none"` asks for no tool call, which is what the gateway does anyway: clients
 * that always send it (with or without an empty tools list) are served, streamed or not, while
 * any other tool_choice is still refused.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let client: OpenAI;
before(async () => {
  stack = await startStack({
    config: { models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', chatTemplate: { file: 'examples/chat-templates/llama-3.jinja' } }] },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => stack.close());

const ask = { model: 'llama-3-8b', messages: [{ role: 'user' as const, content: 'Name a colour.' }], max_tokens: 4 };

test('tool_choice "none" is answered like a request without it', async () => {
  const plain = await client.chat.completions.create({ ...ask, tool_choice: 'none' });
  assert.ok((plain.choices[0]!.message.content ?? '').length > 0);
  const withEmptyTools = await client.chat.completions.create({ ...ask, tools: [], tool_choice: 'none' });
  assert.equal(withEmptyTools.choices[0]!.finish_reason, 'length');
  let text = '';
  for await (const chunk of await client.chat.completions.create({ ...ask, tool_choice: 'none', stream: true })) text += chunk.choices[0]?.delta.content ?? '';
  assert.ok(text.length > 0);
});

test('any other tool_choice is still refused, naming the field', async () => {
  await assert.rejects(client.chat.completions.create({ ...ask, tool_choice: 'required' }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, 400);
    assert.equal(err.param, 'tool_choice');
    return true;
  });
});
