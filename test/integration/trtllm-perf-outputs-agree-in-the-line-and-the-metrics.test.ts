/**
 * What TRT-LLM's per-request perf outputs say reaches the completion line and /metrics the same
 * way: the line's KV-cache hits and misses add up to the blocks allocated, its speculative
 * accepts are the accepted draft tokens (not the proposed ones), and the engine's time to first
 * token runs from arrival, so it is never shorter than the queue delay inside it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({
    // Every request waits in Triton's queue before it is scheduled.
    sim: { latency: { queueDelayMs: 150 } },
    config: { models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm' }] },
  });
});
after(async () => stack.close());

// Long enough to fill several KV-cache blocks, so the second request reuses some.
const prompt = Array.from({ length: 48 }, (_, i) => `word${i}`).join(' ');
const model = { model_name: 'llama-3-8b' };

test('the completion lines and the counters tell the same story', async () => {
  const ids = ['perf-1', 'perf-2'];
  for (const id of ids) {
    const res = await complete(stack.url, { model: 'llama-3-8b', prompt, max_tokens: 24, temperature: 0, seed: 3 }, { 'x-request-id': id });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
  await eventually(() => stack.logs.find('request completed').length >= ids.length, 2000, 'the completion lines');
  const lines = stack.logs.find('request completed').filter((l) => ids.includes(l.reqId as string));
  assert.equal(lines.length, ids.length);
  const m = await scrape(`${stack.url}/metrics`);

  const kv = lines.map((l) => l.kv_cache_reuse as { hits: number; misses: number });
  const hits = kv.reduce((n, k) => n + k.hits, 0);
  assert.ok(hits > 0, `the repeated prompt reused KV-cache blocks: ${JSON.stringify(kv)}`);
  assert.equal(hits, m.value('kv_cache_reused_blocks_total', model));
  assert.equal(kv.reduce((n, k) => n + k.hits + k.misses, 0), m.value('kv_cache_total_blocks_total', model), 'hits + misses = blocks allocated');

  const spec = lines.map((l) => l.speculative as { attempts: number; accepts: number });
  const attempts = spec.reduce((n, s) => n + s.attempts, 0);
  const accepts = spec.reduce((n, s) => n + s.accepts, 0);
  assert.equal(attempts, m.value('speculative_draft_tokens_total', model));
  assert.equal(accepts, m.value('speculative_accepted_tokens_total', model));
  assert.ok(accepts < attempts, `some drafts were rejected at a 0.7 acceptance rate: ${JSON.stringify(spec)}`);

  const queued = m.value('triton_queue_delay_seconds_sum', model);
  assert.ok(queued > 0);
  assert.equal(m.value('engine_time_to_first_token_seconds_count', model), ids.length);
  assert.ok(m.value('engine_time_to_first_token_seconds_sum', model) >= queued, 'arrival → first token includes arrival → scheduled');
});
