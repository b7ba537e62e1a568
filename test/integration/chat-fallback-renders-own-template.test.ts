/**
 * A chat request that fails over is rendered again by the fallback model's own template: Triton
 * never sees one model's prompt format on another model. A fallback that cannot serve chat
 * is skipped instead of getting a prompt it was not trained on.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { loadChatTemplate, type TemplateMessage } from '../../src/inference/chat-template.js';
import { startStack, type Stack } from '../helpers/stack.js';

const llama3 = { file: 'examples/chat-templates/llama-3.jinja' };
const chatml = { file: 'examples/chat-templates/chatml.jinja' };
const noRetry = { retry: { maxAttempts: 1 } };

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack({
    config: {
      resilience: noRetry,
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', chatTemplate: llama3, fallbacks: ['qwen3'] },
        { name: 'qwen3', tritonModel: 'qwen3-vllm', chatTemplate: chatml },
        { name: 'bls', tritonModel: 'llama-3-8b-bls', chatTemplate: llama3, fallbacks: ['qwen3-plain'] },
        { name: 'qwen3-plain', tritonModel: 'qwen3-vllm' },
      ],
    },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => stack.close());

const messages: TemplateMessage[] = [
  { role: 'system', content: 'Answer in one word.' },
  { role: 'user', content: 'What colour is the sky?' },
];

for (const stream of [false, true]) {
  test(`the fallback receives its own rendering of the messages (${stream ? 'streamed' : 'non-streamed'})`, async () => {
    stack.sim.reset();
    stack.sim.setFault('llama-3-8b-trtllm', { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
    try {
      const { data, response } = await client.chat.completions.create({ model: 'llama-3-8b', messages, max_tokens: 4, stream }).withResponse();
      assert.equal(response.headers.get('x-served-model'), 'qwen3');
      assert.ok(response.headers.get('x-fallback-reason'));
      if (stream) {
        for await (const _chunk of data as AsyncIterable<unknown>) {
          // drained: the stream must complete
        }
      }

      const received = stack.sim.received();
      const primary = received.filter((r) => r.model === 'llama-3-8b-trtllm');
      const fallback = received.filter((r) => r.model === 'qwen3-vllm');
      assert.equal(primary.length, 1);
      assert.equal(fallback.length, 1);
      assert.equal(primary[0]!.inputs.text_input!.values[0], loadChatTemplate(llama3).render(messages));
      assert.equal(fallback[0]!.inputs.text_input!.values[0], loadChatTemplate(chatml).render(messages));
      assert.match(fallback[0]!.inputs.text_input!.values[0] as string, /^<\|im_start\|>system\n/);
    } finally {
      stack.sim.clearFaults('llama-3-8b-trtllm');
    }
  });
}

test('a fallback without a chat template is skipped, never sent a foreign prompt', async () => {
  stack.sim.reset();
  stack.sim.setFault('llama-3-8b-bls', { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  try {
    await assert.rejects(
      client.chat.completions.create({ model: 'bls', messages, max_tokens: 4 }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 503 && /'qwen3-plain' cannot serve this chat request.*no chat template/.test(err.message),
    );
    assert.deepEqual(
      stack.sim.received().map((r) => r.model),
      ['llama-3-8b-bls'],
      'only the primary was called',
    );
  } finally {
    stack.sim.clearFaults('llama-3-8b-bls');
  }
});

test('the start-up log warns about a fallback that cannot carry chat traffic', () => {
  const warnings = stack.logs.find('fallback model has no chat template: chat requests will not fail over to it');
  assert.deepEqual(
    warnings.map((w) => [w.model, w.fallback]),
    [['bls', 'qwen3-plain']],
  );
});
