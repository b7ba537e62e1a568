import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTritonMetrics } from '../../../src/telemetry/triton-metrics-poller.js';

const sample = `# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)
# TYPE nv_gpu_utilization gauge
nv_gpu_utilization{gpu_uuid="GPU-a"} 0.25
nv_gpu_utilization{gpu_uuid="GPU-b"} 1
# TYPE nv_gpu_memory_total_bytes gauge
nv_gpu_memory_total_bytes{gpu_uuid="GPU-a"} 80000000000
nv_gpu_memory_total_bytes{gpu_uuid="GPU-b"} 40000000000
# TYPE nv_gpu_memory_used_bytes gauge
nv_gpu_memory_used_bytes{gpu_uuid="GPU-a"} 20000000000
nv_gpu_memory_used_bytes{gpu_uuid="GPU-b"} 40000000000
# TYPE nv_inference_pending_request_count gauge
nv_inference_pending_request_count{model="llama",version="1"} 3
nv_inference_pending_request_count{model="llama",version="2"} 2
nv_inference_pending_request_count{model="qwen",version="1"} 0
`;

test("reads GPU utilisation, memory and pending requests from Triton's text format", () => {
  const read = readTritonMetrics(sample, 'primary');
  assert.deepEqual(
    read.gpus.map((g) => [g.id, g.utilizationPercent, g.memoryUsedBytes, g.memoryTotalBytes, g.memoryPercent]),
    [
      ['GPU-a', 25, 20e9, 80e9, 25],
      ['GPU-b', 100, 40e9, 40e9, 100],
    ],
  );
  assert.deepEqual(read.pendingRequests, { llama: 5, qwen: 0 }, 'versions summed per model');
});

test('an empty or GPU-less endpoint yields no GPUs rather than zeros', () => {
  assert.deepEqual(readTritonMetrics('', 't').gpus, []);
  assert.deepEqual(readTritonMetrics('# TYPE nv_cpu_utilization gauge\nnv_cpu_utilization 0.5\n', 't').gpus, []);
});
