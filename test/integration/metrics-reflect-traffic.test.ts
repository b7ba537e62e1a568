/**
 * After real traffic, /metrics shows every documented metric with the values the traffic
 * implies, re-exports Triton's GPU numbers, passes `promtool check metrics`, and drops
 * Triton's values (rather than keeping them stale) when Triton's endpoint cannot be read.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { complete, completeStream } from '../helpers/openai-http.js';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({
    // A millisecond of queueing in the simulator, against a 1 µs budget below.
    sim: { latency: { queueDelayMs: 1 } },
    config: {
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', pricing: { inputPerMillion: 1, outputPerMillion: 3 }, queueDelayBudgetUs: 1, maxCostUsd: 0.0000001, maxTokens: 8 },
        { name: 'qwen3', tritonModel: 'qwen3-vllm' },
      ],
    },
  });
});
after(async () => stack.close());

function documentedNames(): string[] {
  const doc = readFileSync('docs/metrics.md', 'utf8');
  const names = new Set<string>();
  for (const m of doc.matchAll(/^\| `([a-z_:]+)` \|/gm)) names.add(m[1]!);
  return [...names];
}

test('every documented metric is exported, with values that match the traffic', async () => {
  await complete(stack.url, { model: 'llama-3-8b', prompt: 'one two three', max_tokens: 20 });
  await completeStream(stack.url, { model: 'llama-3-8b', prompt: 'four five', max_tokens: 4 });
  await complete(stack.url, { model: 'qwen3', prompt: 'six', max_tokens: 3 });
  await complete(stack.url, { model: 'nope', prompt: 'x' });
  await fetch(`${stack.url}/no/such/route`);

  const m = await scrape(`${stack.url}/metrics`);
  const names = documentedNames();
  assert.ok(names.length > 40, `parsed the tables of docs/metrics.md (${names.length})`);
  const missing = names.filter((n) => !m.text.includes(`# TYPE ${n} `));
  assert.deepEqual(missing, [], 'every documented metric exists');

  assert.equal(m.value('http_requests_total', { endpoint: '/v1/completions', status: '200' }), 3);
  assert.equal(m.value('http_requests_total', { endpoint: '/v1/completions', status: '404' }), 1);
  assert.equal(m.value('http_requests_total', { endpoint: 'unmatched', status: '404' }), 1, 'an unmatched route is one bounded label');
  assert.ok(!m.text.includes('/no/such/route'), 'never the raw URL');
  assert.equal(m.value('errors_total', { error_type: 'model_not_found' }), 1);
  assert.equal(m.value('http_requests_total', { endpoint: '/metrics' }), 0, '/metrics does not count itself');
  // max_tokens 20 above the model's 8 is clamped and flagged.
  assert.equal(m.value('token_budget_overruns_total', { model_name: 'llama-3-8b' }), 1);
  assert.equal(m.value('tokens_generated_total', { model_name: 'llama-3-8b' }), 8 + 4);
  assert.equal(m.value('tokens_input_total', { model_name: 'llama-3-8b' }), 3 + 2);
  assert.equal(m.value('cost_usd_total', { model_name: 'llama-3-8b' }), (5 * 1 + 12 * 3) / 1e6);
  assert.equal(m.value('cost_budget_overruns_total', { model_name: 'llama-3-8b' }), 2, m.text.split('\n').filter((l) => /overrun/.test(l)).join('\n'));
  assert.equal(m.value('queue_delay_budget_overruns_total', { model_name: 'llama-3-8b' }), 2, 'TRT-LLM perf outputs feed the queue-delay budget');
  assert.equal(m.value('triton_queue_delay_seconds_count', { model_name: 'llama-3-8b' }), 2);
  assert.ok(m.value('kv_cache_total_blocks_total', { model_name: 'llama-3-8b' }) > 0);
  // The stream's first content byte, and the non-streamed request's first Triton response,
  // told apart: the TTFT SLO reads streams only (a non-streamed first token is the whole answer).
  assert.equal(m.value('time_to_first_token_seconds_count', { model_name: 'llama-3-8b', stream: 'true' }), 1);
  assert.equal(m.value('time_to_first_token_seconds_count', { model_name: 'llama-3-8b', stream: 'false' }), 1);
  assert.equal(m.value('time_to_first_token_seconds_count', { model_name: 'qwen3', stream: 'false' }), 1, 'a model used only without stream is measured too');
  assert.equal(m.value('time_to_first_token_seconds_count', { model_name: 'qwen3', stream: 'true' }), 0);
  assert.equal(m.value('gen_ai_server_time_to_first_token_seconds_count', { gen_ai_request_model: 'qwen3' }), 1);
  assert.equal(m.value('inter_token_latency_seconds_count', { model_name: 'llama-3-8b' }), 4, 'five chunks (4 tokens + final) give four gaps');
  assert.equal(m.value('gen_ai_client_token_usage_count', { gen_ai_request_model: 'qwen3', gen_ai_token_type: 'output' }), 1);
  assert.equal(m.value('request_duration_seconds_count', { endpoint: '/v1/completions' }), 4);
  assert.equal(m.value('active_requests'), 0);
  // Health is checked in the background (at start-up without waiting, then every 5 s), so on a
  // busy machine the first answer may not have landed yet: wait for it rather than race it.
  await eventually(async () => (await scrape(`${stack.url}/metrics`)).value('triton_up', { target: 'primary' }) === 1, 12_000, 'triton_up to report the target');
  assert.equal(m.value('triton_model_ready', { model_name: 'qwen3' }), 1);
  assert.ok(m.has('process_resident_memory_bytes'), 'Node process metrics included');
});

test("GPU values equal the simulator's and Triton's pending count is re-exported", async () => {
  await eventually(async () => (await scrape(`${stack.url}/metrics`)).has('gpu_memory_total_bytes'), 3000, 'the first poll');
  const gpus = stack.sim.state().gpus;
  const m = await scrape(`${stack.url}/metrics`);
  for (const g of gpus) {
    assert.equal(m.value('gpu_memory_total_bytes', { gpu_id: g.uuid }), g.memoryTotalBytes);
    assert.equal(m.value('gpu_memory_used_bytes', { gpu_id: g.uuid }), g.memoryUsedBytes, 'idle: the weights only');
    assert.equal(m.value('gpu_utilization_percent', { gpu_id: g.uuid }), g.utilization * 100);
  }
  // A poll taken while the previous test's requests were queued in Triton reads 1; the next
  // one (every 200 ms here) reads the idle 0.
  await eventually(
    async () => (await scrape(`${stack.url}/metrics`)).text.includes('triton_pending_requests{target="primary",model="llama-3-8b-trtllm"} 0'),
    3000,
    "an idle Triton's pending count",
  );
  assert.ok(m.value('triton_metrics_last_success_timestamp_seconds', { target: 'primary' }) > Date.now() / 1000 - 60);
});

test('promtool check metrics accepts the scrape', async (t) => {
  const which = spawnSync('promtool', ['--version']);
  if (which.error) {
    t.skip('promtool not installed (apt-get install prometheus); .ci/run installs it');
    return;
  }
  const text = (await scrape(`${stack.url}/metrics`)).text;
  const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
});

test("Triton's values are dropped, not left stale, when its metrics endpoint cannot be read", async (t) => {
  const other = await startStack({ config: { triton: { metricsIntervalMs: 100 } } });
  t.after(() => other.close());
  await eventually(async () => (await scrape(`${other.url}/metrics`)).has('gpu_memory_total_bytes') && (await scrape(`${other.url}/metrics`)).text.includes('gpu_memory_total_bytes{'), 3000, 'GPU values');
  await other.sim.stop();
  await eventually(async () => !(await scrape(`${other.url}/metrics`)).text.includes('gpu_memory_total_bytes{'), 3000, 'GPU values dropped');
  const m = await scrape(`${other.url}/metrics`);
  assert.ok(m.value('triton_metrics_scrape_errors_total', { target: 'primary' }) >= 1);
  assert.ok(!m.text.includes('gpu_utilization_percent{'));
  other.sim = { ...other.sim, stop: async () => undefined };
});
