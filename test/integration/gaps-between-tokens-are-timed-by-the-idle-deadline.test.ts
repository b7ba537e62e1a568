/**
 * After the first token, Triton's silence is timed against the idle deadline, not the (here
 * shorter) time-to-first-token one: a stream whose tokens come 2 s apart, under a 1 s TTFT
 * deadline and a 10 s idle deadline, is relayed whole. The watchdog reuses one timer across
 * both waits, so it must take the new duration when it is re-armed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { completeStream } from '../helpers/openai-http.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({
    config: { models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', deadlines: { ttftMs: 1000, idleMs: 10_000 } }] },
  });
  // Set after the warm-up, which would otherwise wait out the slow tokens too.
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 2000 });
});
after(async () => stack.close());

test('a gap longer than the TTFT deadline but inside the idle deadline does not end the stream', async () => {
  const res = await completeStream(stack.url, { model: 'llama-3-8b', prompt: 'one two', max_tokens: 2 });
  assert.equal(res.status, 200);
  assert.deepEqual(res.events.filter((e) => e.event === 'error'), [], res.raw);
  assert.ok(res.done, res.raw);
  const text = res.events.filter((e) => e.data !== '[DONE]').map((e) => e.data.choices[0].text as string).join('');
  assert.equal(text.trim().split(/\s+/).length, 2, 'both tokens, the second after the gap');
});
