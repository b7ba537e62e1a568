import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { TargetConfig } from '../../../src/config.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { readTritonMetrics, TritonMetricsPoller } from '../../../src/telemetry/triton-metrics-poller.js';

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

test('a target never read since start-up exports 0 as its last success, so TritonMetricsStale can fire', async (t) => {
  let healthy = false;
  const server = createServer((_req, res) => {
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(healthy ? sample : 'metrics off');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const metrics = createMetrics({ defaultMetrics: false });
  const quiet = { warn: () => undefined, info: () => undefined };
  const targets = [
    { name: 'primary', grpc: '127.0.0.1:1', metricsUrl: `http://127.0.0.1:${port}/metrics`, tls: false },
    { name: 'no-metrics', grpc: '127.0.0.1:2', tls: false },
  ] as TargetConfig[];
  const poller = new TritonMetricsPoller(targets, 1000, metrics, quiet, () => new Set());
  const lastSuccess = async (): Promise<string[]> =>
    (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('triton_metrics_last_success_timestamp_seconds{'));

  // Before any read and after failed ones: a 0 series (absent would leave `time() - x` empty).
  assert.deepEqual(await lastSuccess(), ['triton_metrics_last_success_timestamp_seconds{target="primary"} 0']);
  await poller.pollAll();
  await poller.pollAll();
  assert.deepEqual(await lastSuccess(), ['triton_metrics_last_success_timestamp_seconds{target="primary"} 0']);
  assert.match(await metrics.registry.metrics(), /triton_metrics_scrape_errors_total\{target="primary"\} 2/);

  healthy = true;
  await poller.pollAll();
  const [line] = await lastSuccess();
  assert.ok(Number(line!.split(' ')[1]) > Date.now() / 1000 - 60, line);
});

test('a metricsUrl with credentials is read with Basic auth, and neither the password nor a token reaches the snapshot or the log', async (t) => {
  let authorization: string | undefined;
  const server = createServer((req, res) => {
    authorization = req.headers.authorization;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(sample);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const warnings: string[] = [];
  const log = { warn: (obj: object, msg?: string) => void warnings.push(JSON.stringify(obj) + (msg ?? '')), info: () => undefined };
  const targets = [
    { name: 'primary', grpc: '127.0.0.1:1', metricsUrl: `http://scraper:s3cr%40t@127.0.0.1:${port}/metrics?token=tok123`, tls: false },
    // A port nothing listens on: fetch's error names the URL it failed on.
    { name: 'down', grpc: '127.0.0.1:2', metricsUrl: 'http://scraper:s3cr%40t@127.0.0.1:1/metrics?token=tok123', tls: false },
  ] as TargetConfig[];
  const poller = new TritonMetricsPoller(targets, 1000, createMetrics({ defaultMetrics: false }), log, () => new Set());
  await poller.pollAll();
  assert.equal(authorization, `Basic ${Buffer.from('scraper:s3cr@t').toString('base64')}`, 'the userinfo went as a decoded Basic header');
  const [primary, down] = poller.snapshot();
  assert.equal(primary!.lastError, null);
  assert.equal(primary!.gpus.length, 2);
  assert.ok(down!.lastError, 'the unreachable target has an error');
  const shown = JSON.stringify(poller.snapshot()) + warnings.join('\n');
  assert.ok(warnings.length > 0, 'the failure was logged');
  for (const secret of ['s3cr', 'tok123', 'scraper']) assert.ok(!shown.includes(secret), `'${secret}' leaked: ${shown}`);
});
