/**
 * A model configured with `multiplex: true` sends its non-streamed completions over the
 * client's shared Triton streams (DESIGN §9), and still answers streamed ones on a stream each.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { complete, completeStream } from '../helpers/openai-http.js';
import { eventually, startStack } from '../helpers/stack.js';

test('non-streamed completions of a multiplexed model share a few long-lived Triton streams', async (t) => {
  const stack = await startStack({
    config: {
      triton: { multiplexStreams: 3 },
      models: [
        { name: 'shared', tritonModel: 'llama-3-8b-trtllm', maxTokens: 64, multiplex: true },
        { name: 'own', tritonModel: 'qwen3-vllm', maxTokens: 64 },
      ],
    },
  });
  t.after(() => stack.close());
  await eventually(() => stack.sim.state().openStreams === 0, 2000, 'warm-up streams closed');

  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => complete(stack.url, { model: 'shared', prompt: `question ${i}`, max_tokens: 5, seed: i })));
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.equal(a.body.usage.completion_tokens, 5);
  }
  // Thirty answers, three streams, still open for the next requests.
  assert.equal(stack.sim.state().openStreams, 3);

  // The same prompt and seed give the same text as on a stream of its own (the unshared model
  // is another backend, so compare against a streamed request of the shared model instead).
  const streamed = await completeStream(stack.url, { model: 'shared', prompt: 'question 7', max_tokens: 5, seed: 7 });
  const streamedText = streamed.events.filter((e) => typeof e.data === 'object' && e.data.choices?.length > 0).map((e) => e.data.choices[0].text).join('');
  assert.ok(streamed.done);
  assert.equal(streamedText, answers[7]!.body.choices[0].text);

  // A model without the option opens and closes a stream per request.
  const own = await complete(stack.url, { model: 'own', prompt: 'hello', max_tokens: 3 });
  assert.equal(own.status, 200);
  await eventually(() => stack.sim.state().openStreams === 3, 2000, 'only the shared streams left open');
});
