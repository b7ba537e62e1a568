/**
 * gen_ai.server.time_per_output_token is the time from the first streamed token to the last,
 * divided by the tokens after the first (OpenTelemetry GenAI conventions). The same stream's
 * inter-token gaps add up to that same first-to-last time, so for one stream of n tokens the
 * two histograms' sums differ by exactly the factor n − 1.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { completeStream } from '../helpers/openai-http.js';
import { scrape } from '../helpers/scrape.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  // Tokens some milliseconds apart, so the gaps are far above rounding.
  stack = await startStack({ sim: { latency: { timePerTokenMs: 10 } }, config: { models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm' }] } });
});
after(async () => stack.close());

test('time per output token × (tokens − 1) equals the sum of the inter-token gaps', async () => {
  const tokens = 5;
  const res = await completeStream(stack.url, { model: 'llama-3-8b', prompt: 'one two three', max_tokens: tokens, stream_options: { include_usage: true } });
  assert.ok(res.done);
  assert.equal(res.events.at(-2)?.data.usage.completion_tokens, tokens);
  const m = await scrape(`${stack.url}/metrics`);
  const genAi = { gen_ai_request_model: 'llama-3-8b' };
  assert.equal(m.value('gen_ai_server_time_per_output_token_seconds_count', genAi), 1);
  const gaps = m.value('inter_token_latency_seconds_sum', { model_name: 'llama-3-8b' });
  assert.ok(gaps > 0);
  const perToken = m.value('gen_ai_server_time_per_output_token_seconds_sum', genAi);
  assert.ok(Math.abs(perToken * (tokens - 1) - gaps) < 1e-9, `per token ${perToken} s, gaps ${gaps} s`);
});
