/**
 * The official `openai` npm client against the real gateway and the real simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => stack.close());

for (const model of ['llama-3-8b', 'qwen3']) {
  describe(`completions on ${model}`, () => {
    test('answers with text, exact usage and a finish reason', async () => {
      const res = await client.completions.create({ model, prompt: 'The capital of France is', max_tokens: 8, temperature: 0, seed: 1 });
      assert.equal(res.object, 'text_completion');
      assert.equal(res.choices.length, 1);
      assert.ok(res.choices[0]!.text.length > 0);
      assert.ok(res.usage);
      // The simulator's tokenizer counts a word with its leading whitespace as one token.
      assert.equal(res.usage.prompt_tokens, 5);
      assert.equal(res.usage.completion_tokens, 8);
      assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);
      assert.equal(res.choices[0]!.finish_reason, 'length');
    });

    test('streamed text concatenates to the non-streamed text at temperature 0 with a seed', async () => {
      const params = { model, prompt: 'Tell me about the sea', max_tokens: 12, temperature: 0, seed: 7 } as const;
      const whole = await client.completions.create(params);
      const stream = await client.completions.create({ ...params, stream: true });
      let text = '';
      const finishes: Array<{ index: number; reason: string }> = [];
      let chunks = 0;
      for await (const chunk of stream) {
        assert.equal(chunk.usage ?? null, null);
        const choice = chunk.choices[0]!;
        text += choice.text;
        if (choice.finish_reason) finishes.push({ index: chunks, reason: choice.finish_reason });
        chunks += 1;
      }
      assert.equal(text, whole.choices[0]!.text);
      assert.ok(chunks > 1, 'more than one chunk');
      assert.equal(finishes.length, 1, 'finish_reason exactly once');
      assert.equal(finishes[0]!.index, chunks - 1, 'finish_reason in the last chunk');
      assert.equal(finishes[0]!.reason, whole.choices[0]!.finish_reason);
    });

    test('include_usage adds exactly one last chunk with no choices and the non-streamed usage', async () => {
      const params = { model, prompt: 'Count the stars tonight', max_tokens: 10, temperature: 0, seed: 3 } as const;
      const whole = await client.completions.create(params);
      const stream = await client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const withUsage = chunks.filter((c) => c.usage);
      assert.equal(withUsage.length, 1);
      const last = chunks.at(-1)!;
      assert.equal(last, withUsage[0]);
      assert.deepEqual(last.choices, []);
      assert.deepEqual(last.usage, whole.usage);
      assert.equal(chunks.slice(0, -1).map((c) => c.choices[0]!.text).join(''), whole.choices[0]!.text);
    });
  });
}

test('echo prepends the prompt, in both modes', async () => {
  const prompt = 'Once upon a time';
  const res = await client.completions.create({ model: 'llama-3-8b', prompt, max_tokens: 4, temperature: 0, echo: true });
  assert.ok(res.choices[0]!.text.startsWith(prompt));
  const plain = await client.completions.create({ model: 'llama-3-8b', prompt, max_tokens: 4, temperature: 0 });
  assert.equal(res.choices[0]!.text, prompt + plain.choices[0]!.text);
  const stream = await client.completions.create({ model: 'llama-3-8b', prompt, max_tokens: 4, temperature: 0, echo: true, stream: true });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.text ?? '';
  assert.equal(text, res.choices[0]!.text);
});

test('a stop sequence ends the text before it with finish_reason stop', async () => {
  const base = await client.completions.create({ model: 'qwen3', prompt: 'Write words', max_tokens: 20, temperature: 0 });
  const words = base.choices[0]!.text.trim().split(/\s+/);
  assert.ok(words.length > 3);
  const stopWord = words[2]!;
  const res = await client.completions.create({ model: 'qwen3', prompt: 'Write words', max_tokens: 20, temperature: 0, stop: [stopWord] });
  assert.ok(!res.choices[0]!.text.includes(stopWord));
  assert.ok(base.choices[0]!.text.startsWith(res.choices[0]!.text));
  assert.equal(res.choices[0]!.finish_reason, 'stop');
  assert.ok(res.usage!.completion_tokens < 20);
});

test('stream_options without stream is a 400', async () => {
  await assert.rejects(
    client.completions.create({ model: 'llama-3-8b', prompt: 'x', stream_options: { include_usage: true } } as never),
    (err: unknown) => err instanceof OpenAI.BadRequestError && /stream_options/.test(err.message),
  );
});

test('lists the configured models with their readiness', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id).sort();
  assert.deepEqual(ids, ['llama-3-8b', 'qwen3']);
  const one = await client.models.retrieve('qwen3');
  assert.equal(one.id, 'qwen3');
  assert.equal((one as unknown as { ready: boolean }).ready, true);
  await assert.rejects(client.models.retrieve('nope'), (err: unknown) => err instanceof OpenAI.NotFoundError);
});

test('a request served by the TRT-LLM flavour and the vLLM flavour reach the right Triton models', async () => {
  stack.sim.reset();
  await client.completions.create({ model: 'llama-3-8b', prompt: 'hello there', max_tokens: 2 });
  await client.completions.create({ model: 'qwen3', prompt: 'hello there', max_tokens: 2 });
  const received = stack.sim.received();
  const trt = received.find((r) => r.model === 'llama-3-8b-trtllm')!;
  const vllm = received.find((r) => r.model === 'qwen3-vllm')!;
  assert.deepEqual(trt.inputs.text_input!.shape, [1, 1]);
  assert.ok(trt.inputs.max_tokens);
  assert.deepEqual(vllm.inputs.text_input!.shape, [1]);
  assert.ok(vllm.inputs.sampling_parameters);
});
