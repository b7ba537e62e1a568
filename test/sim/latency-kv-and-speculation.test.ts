import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { GRPCInferenceServiceClient } from '../../src/triton/generated/grpc_service.js';
import {
  bytesInput,
  connect,
  dataResponses,
  inferRequest,
  openStream,
  outputInt,
  runStream,
  scalarInput,
  trtllmRequest,
  unary,
} from './sim-client.js';
import { waitFor } from './wait-for.js';

const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `w${i + from}`).join(' ');

describe('latency model, KV-cache reuse and speculative decoding', () => {
  let sim: RunningSimulator;
  let client: GRPCInferenceServiceClient;
  before(async () => {
    sim = await startSimulator({
      models: [
        { name: 'ens', flavour: 'ensemble', kvCache: { blockTokens: 8 }, speculative: { draftTokens: 4, acceptanceRate: 0.6 } },
        { name: 'plain', flavour: 'ensemble' },
        { name: 'llmapi', flavour: 'llmapi', kvCache: { blockTokens: 8 } },
        { name: 'slow', flavour: 'ensemble', latency: { queueDelayMs: 25, timeToFirstTokenMs: 10, timePerTokenMs: 5 } },
        { name: 'narrow', flavour: 'vllm', concurrency: 1, maxQueueSize: 1 },
        { name: 'narrow-ens', flavour: 'ensemble', concurrency: 1, maxQueueSize: 1 },
        { name: 'narrow-ident', flavour: 'identity', concurrency: 1, maxQueueSize: 1, latency: { timeToFirstTokenMs: 10000 } },
      ],
    });
    client = connect(sim.grpcAddress);
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  const perf = async (model: string, prompt: string, maxTokens = 10) => {
    const r = await runStream(client, [trtllmRequest(model, 'p', { prompt, maxTokens, exclude: true, perf: true })]);
    const [resp] = dataResponses(r);
    assert.ok(resp, JSON.stringify(r.responses.map((x) => x.errorMessage)));
    return (name: string) => outputInt(resp, name)!;
  };

  test('a repeated prompt prefix reuses whole KV blocks', async () => {
    const prompt = words(20); // 20 tokens = 2 full blocks of 8
    const first = await perf('ens', prompt);
    assert.equal(first('kv_cache_reused_blocks'), 0);
    assert.equal(first('kv_cache_alloc_total_blocks'), Math.ceil((20 + 10) / 8));
    assert.equal(first('kv_cache_alloc_new_blocks'), first('kv_cache_alloc_total_blocks'));
    const again = await perf('ens', prompt);
    assert.equal(again('kv_cache_reused_blocks'), 2);
    assert.equal(again('kv_cache_alloc_new_blocks'), again('kv_cache_alloc_total_blocks') - 2);
    const samePrefix = await perf('ens', `${words(8)} ${words(12, 100)}`);
    assert.equal(samePrefix('kv_cache_reused_blocks'), 1, 'only the first block matches');
  });

  test('speculative decoding reports draft and accepted tokens and their ratio; none when not configured', async () => {
    const p = await perf('ens', 'speculate on this', 60);
    assert.ok(p('total_draft_tokens') > 0);
    assert.ok(p('total_accepted_draft_tokens') > 0 && p('total_accepted_draft_tokens') <= p('total_draft_tokens'));
    assert.ok(Math.abs(p('acceptance_rate') - p('total_accepted_draft_tokens') / p('total_draft_tokens')) < 1e-6);
    const repeat = await perf('ens', 'speculate on this', 60);
    assert.equal(repeat('total_draft_tokens'), p('total_draft_tokens'), 'deterministic per prompt and seed');
    const plain = await perf('plain', 'speculate on this', 60);
    assert.equal(plain('total_draft_tokens'), 0);
    assert.equal(plain('acceptance_rate'), 0);
  });

  test('the LLM-API model reports KV reuse with its own singular names and a hit rate', async () => {
    const req = () =>
      inferRequest('llmapi', 'k', [
        bytesInput('text_input', [words(16)], [1, 1]),
        scalarInput('sampling_param_max_tokens', 'INT32', 2, [1, 1]),
        scalarInput('sampling_param_return_perf_metrics', 'BOOL', true, [1, 1]),
      ]);
    await runStream(client, [req()]);
    const [resp] = dataResponses(await runStream(client, [req()]));
    assert.equal(outputInt(resp!, 'kv_cache_reused_block'), 2);
    assert.equal(outputInt(resp!, 'kv_cache_missed_block'), 0);
    assert.equal(outputInt(resp!, 'kv_cache_hit_rate'), 1);
  });

  test('timing outputs follow the latency model on a monotonic clock', async () => {
    const p = await perf('slow', 'time me', 4);
    const ms = (a: string, b: string) => (p(b) - p(a)) / 1e6;
    assert.ok(ms('arrival_time_ns', 'first_scheduled_time_ns') >= 24, 'queue delay');
    assert.ok(ms('first_scheduled_time_ns', 'first_token_time_ns') >= 9, 'time to first token');
    assert.ok(ms('first_token_time_ns', 'last_token_time_ns') >= 3 * 4, 'time per token');
    assert.ok(p('arrival_time_ns') < Date.now() * 1e6, 'not wall-clock epoch nanoseconds');
  });

  test('past concurrency and max_queue_size a request is rejected with UNAVAILABLE "Exceeds maximum queue size"', async () => {
    sim.setFault('narrow', { kind: 'hang' });
    sim.setFault('narrow-ens', { kind: 'hang' });
    const vllm = (id: string) => inferRequest('narrow', id, [bytesInput('text_input', ['hi'], [1])]);
    const open = openStream(client, [vllm('a'), vllm('b'), vllm('c'), trtllmRequest('narrow-ens', 'd', { prompt: 'x', maxTokens: 1 }), trtllmRequest('narrow-ens', 'e', { prompt: 'x', maxTokens: 1 }), trtllmRequest('narrow-ens', 'f', { prompt: 'x', maxTokens: 1 })]);
    try {
      await waitFor(() => open.responses.length === 2, 'two rejections');
      assert.deepEqual(
        open.responses.map((r) => [r.inferResponse?.id, r.errorMessage]),
        [
          ['c', '[request id: c] Exceeds maximum queue size'],
          ['f', "in ensemble 'narrow-ens', [request id: f] Exceeds maximum queue size"],
        ],
      );
      const state = sim.state().models.narrow!;
      assert.deepEqual([state.inFlight, state.queued], [1, 1]);
      const metrics = await (await fetch(sim.metricsUrl)).text();
      assert.match(metrics, /nv_inference_pending_request_count\{model="narrow",version="1"\} 1/);
      assert.match(metrics, /nv_inference_request_failure\{model="narrow",version="1",reason="REJECTED"\} 1/);
    } finally {
      open.cancel();
      await open.ended;
      sim.clearFaults('narrow');
      sim.clearFaults('narrow-ens');
    }
    await waitFor(() => sim.state().models.narrow!.inFlight + sim.state().models.narrow!.queued === 0, 'the queue to drain');
    assert.equal(sim.state().models.narrow!.cancellations, 2, 'the queued request is cancelled too');
  });

  test('unary calls past the queue get the UNAVAILABLE status', async () => {
    const call = (id: string) => {
      const c = client.modelInfer(inferRequest('narrow-ident', id, [bytesInput('INPUT0', ['x'], [1, 1])]), () => undefined);
      return c;
    };
    const running = call('r1');
    const queued = call('r2');
    await waitFor(() => sim.state().models['narrow-ident']!.queued === 1, 'one queued');
    const err = (await unary(client, 'modelInfer', inferRequest('narrow-ident', 'r3', [bytesInput('INPUT0', ['x'], [1, 1])])).catch(
      (e: unknown) => e,
    )) as ServiceError;
    assert.equal(err.code, status.UNAVAILABLE);
    assert.equal(err.details, '[request id: r3] Exceeds maximum queue size');
    running.cancel();
    queued.cancel();
    await waitFor(() => sim.state().models['narrow-ident']!.inFlight === 0, 'the slot to free');
  });
});
