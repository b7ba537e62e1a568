/**
 * TRT-LLM refuses `stream` on a model deployed with decoupled_mode=false. A client that asks for a
 * stream still gets one: the whole answer as one chunk, then [DONE], with the same text and
 * usage as a non-streamed request. It is never a 502 counted against Triton, nor held to the
 * time-to-first-token deadline (its first token is the whole answer), nor counted as a streamed
 * first token by the TTFT SLO's histogram.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { scrape } from '../helpers/scrape.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let client: OpenAI;
before(async () => {
  stack = await startStack({
    sim: {
      // Six tokens take ~360 ms: longer than the TTFT deadline below, well inside the total one.
      latency: { timePerTokenMs: 60 },
      models: [
        { name: 'ensemble-unary', flavour: 'ensemble', decoupled: false },
        { name: 'llmapi-unary', flavour: 'llmapi', decoupled: false },
      ],
    },
    config: {
      models: [
        { name: 'ensemble', tritonModel: 'ensemble-unary', deadlines: { totalMs: 10_000, ttftMs: 150, idleMs: 150 } },
        { name: 'llmapi', tritonModel: 'llmapi-unary', deadlines: { totalMs: 10_000, ttftMs: 150, idleMs: 150 } },
      ],
    },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => stack.close());

for (const model of ['ensemble', 'llmapi']) {
  test(`${model}: a stream asked of a model without decoupled mode arrives as one chunk with the whole answer`, async () => {
    const ask = { model, prompt: 'Explain the theory of everything', max_tokens: 6, temperature: 0 };
    const whole = await client.completions.create(ask);
    const stream = await client.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } });
    const texts: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.Completions.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.text) texts.push(chunk.choices[0].text);
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.deepEqual(texts, [whole.choices[0]!.text], 'one chunk, the same text as unstreamed');
    assert.equal(finish, whole.choices[0]!.finish_reason);
    assert.deepEqual(usage ?? undefined, whole.usage ?? undefined);
    const sent = stack.sim.received().filter((r) => r.model === `${model}-unary`);
    assert.ok(sent.length >= 2);
    const m = await scrape(`${stack.url}/metrics`);
    assert.equal(m.value('upstream_errors_total'), 0, 'nothing failed upstream');
    assert.equal(m.value('time_to_first_token_seconds_count', { model_name: model, stream: 'true' }), 0, 'no streamed first token');
    assert.equal(m.value('time_to_first_token_seconds_count', { model_name: model, stream: 'false' }), 2);
  });
}
