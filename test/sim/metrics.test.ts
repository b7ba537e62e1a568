import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { GRPCInferenceServiceClient } from '../../src/triton/generated/grpc_service.js';
import { connect, openStream, runStream, trtllmRequest, vllmRequest } from './sim-client.js';
import { waitFor } from './wait-for.js';

const GPU = 'GPU-00000000-test-4000-8000-000000000001';

describe('Triton-format Prometheus metrics', () => {
  let sim: RunningSimulator;
  let client: GRPCInferenceServiceClient;
  before(async () => {
    sim = await startSimulator({
      gpus: [{ uuid: GPU, name: 'test GPU', memoryTotalBytes: 80e9, idlePowerWatts: 50, powerLimitWatts: 500, saturationSequences: 4 }],
      models: [
        { name: 'ens', flavour: 'ensemble', weightsBytes: 10e9, kvCache: { bytesPerToken: 1e6 }, metricTags: { team: 'llm' } },
        { name: 'vllm', flavour: 'vllm', weightsBytes: 5e9 },
      ],
    });
    client = connect(sim.grpcAddress);
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  const scrape = async () => {
    const res = await fetch(sim.metricsUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const families = parsePrometheusTextFormat(await res.text());
    return (name: string, labels: Record<string, string> = {}): number | undefined => {
      const family = families.find((f) => f.name === name);
      const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
      return sample?.value === undefined ? undefined : Number(sample.value);
    };
  };

  test('the exposition parses and carries per-model inference counters with model/version labels', async () => {
    await runStream(client, [
      trtllmRequest('ens', 'a', { prompt: 'hello', maxTokens: 3 }),
      trtllmRequest('ens', 'b', { prompt: 'hello', maxTokens: 3 }),
      vllmRequest('vllm', 'c', { prompt: 'hello', stream: true }),
    ]);
    const bad = trtllmRequest('ens', 'd', { prompt: 'hello', maxTokens: 3 });
    bad.inputs[0]!.shape = [1];
    await runStream(client, [bad]);
    const m = await scrape();
    const ens = { model: 'ens', version: '1' };
    assert.equal(m('nv_inference_request_success', ens), 2);
    assert.equal(m('nv_inference_request_failure', { ...ens, reason: 'OTHER' }), 1);
    assert.equal(m('nv_inference_request_failure', { ...ens, reason: 'REJECTED' }), 0);
    assert.equal(m('nv_inference_count', ens), 2);
    assert.equal(m('nv_inference_exec_count', ens), 2);
    assert.equal(m('nv_inference_pending_request_count', ens), 0);
    assert.equal(m('nv_inference_request_success', { ...ens, _team: 'llm' }), 2, 'metric_tags become _<tag> labels');
    for (const name of ['nv_inference_request_duration_us', 'nv_inference_queue_duration_us', 'nv_inference_compute_infer_duration_us']) {
      assert.ok(m(name, ens) !== undefined, name);
    }
    assert.equal(m('vllm:generation_tokens_total', { model: 'vllm', version: '1' }), 16);
    assert.equal(m('nv_trt_llm_kv_cache_block_metrics', { ...ens, kv_cache_block_type: 'tokens_per' }), 16);
    assert.equal(m('nv_trt_llm_request_metrics', { ...ens, request_type: 'active' }), 0);
    assert.ok(m('nv_cpu_utilization') !== undefined);
  });

  test("a backend error is counted on an ensemble as reason OTHER (Triton's ensemble scheduler) and on vLLM as BACKEND", async () => {
    const before = await scrape();
    const ens = { model: 'ens', version: '1' };
    const vllm = { model: 'vllm', version: '1' };
    const was = {
      ensOther: before('nv_inference_request_failure', { ...ens, reason: 'OTHER' }) ?? 0,
      ensBackend: before('nv_inference_request_failure', { ...ens, reason: 'BACKEND' }) ?? 0,
      vllmBackend: before('nv_inference_request_failure', { ...vllm, reason: 'BACKEND' }) ?? 0,
    };
    sim.setFault('ens', { kind: 'error', code: 'INTERNAL', message: 'executor failed', firstN: 1 });
    sim.setFault('vllm', { kind: 'error', code: 'INTERNAL', message: 'engine crashed', firstN: 1 });
    await runStream(client, [trtllmRequest('ens', 'e1', { prompt: 'hello', maxTokens: 2 }), vllmRequest('vllm', 'v1', { prompt: 'hello' })]);
    sim.clearFaults('ens');
    sim.clearFaults('vllm');
    const m = await scrape();
    assert.equal(m('nv_inference_request_failure', { ...ens, reason: 'OTHER' }), was.ensOther + 1);
    assert.equal(m('nv_inference_request_failure', { ...ens, reason: 'BACKEND' }), was.ensBackend);
    assert.equal(m('nv_inference_request_failure', { ...vllm, reason: 'BACKEND' }), was.vllmBackend + 1);
  });

  test('GPU gauges: weights at rest, memory and utilization grow with requests in flight', async () => {
    const idle = await scrape();
    assert.equal(idle('nv_gpu_memory_total_bytes', { gpu_uuid: GPU }), 80e9);
    assert.equal(idle('nv_gpu_memory_used_bytes', { gpu_uuid: GPU }), 15e9);
    assert.equal(idle('nv_gpu_utilization', { gpu_uuid: GPU }), 0);
    assert.equal(idle('nv_gpu_power_usage', { gpu_uuid: GPU }), 50);

    sim.setFault('ens', { kind: 'hang' });
    const prompt = 'one two three four five six seven eight nine ten';
    const open = openStream(client, [
      trtllmRequest('ens', 'h1', { prompt, maxTokens: 3 }),
      trtllmRequest('ens', 'h2', { prompt, maxTokens: 3 }),
    ]);
    try {
      await waitFor(() => sim.state().models.ens!.inFlight === 2, 'two hung requests');
      const busy = await scrape();
      // A hung request holds a slot but has not started generating, so only the queue/in-flight gauges move.
      assert.equal(busy('nv_trt_llm_request_metrics', { model: 'ens', version: '1', request_type: 'active' }), 2);
    } finally {
      open.cancel();
      await open.ended;
      sim.clearFaults('ens');
    }

    sim.setFault('ens', { kind: 'stall', afterTokens: 2 });
    const stalled = openStream(client, [
      trtllmRequest('ens', 's1', { prompt, maxTokens: 8, stream: true }),
      trtllmRequest('ens', 's2', { prompt, maxTokens: 8, stream: true }),
    ]);
    try {
      await waitFor(() => stalled.responses.length >= 4, 'two tokens of each request');
      const busy = await scrape();
      // 2 sequences x (10 prompt + 2 generated tokens) x 1e6 bytes on top of the weights.
      assert.equal(busy('nv_gpu_memory_used_bytes', { gpu_uuid: GPU }), 15e9 + 24e6);
      assert.equal(busy('nv_gpu_utilization', { gpu_uuid: GPU }), 0.5);
      assert.ok(busy('nv_gpu_power_usage', { gpu_uuid: GPU })! > 50);
      assert.equal(busy('nv_trt_llm_kv_cache_block_metrics', { model: 'ens', version: '1', kv_cache_block_type: 'used' }), 2);
      assert.deepEqual(
        sim.state().gpus.map((g) => [g.uuid, g.activeSequences]),
        [[GPU, 2]],
      );
    } finally {
      stalled.cancel();
      await stalled.ended;
      sim.clearFaults('ens');
    }
    await waitFor(() => sim.state().gpus[0]!.activeSequences === 0, 'sequences to end');
    const after = await scrape();
    assert.equal(after('nv_gpu_memory_used_bytes', { gpu_uuid: GPU }), 15e9);
    assert.ok(after('nv_energy_consumption', { gpu_uuid: GPU })! >= 0);
  });
});
