/**
 * Triton's Prometheus metrics in the text exposition format (shared/triton-protocol.md §6):
 * per-model nv_inference_* with model/version labels (plus `_<tag>` for metric_tags), GPU
 * gauges with gpu_uuid, CPU gauges, the TRT-LLM backend families for TRT-LLM flavours and the
 * vLLM counters for vLLM models that set REPORT_CUSTOM_METRICS. Hand-written: the shapes are
 * fixed and this stays cheap to scrape.
 */
import os from 'node:os';
import type { SimulatorCore } from '../engine/simulator-core.js';
import type { ModelDefinition } from '../model/model-definition.js';
import type { ModelStats } from '../engine/model-stats.js';

type Labels = Record<string, string>;

class Family {
  readonly lines: string[] = [];
  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge',
    readonly help: string,
  ) {}

  add(labels: Labels, value: number): void {
    const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    this.lines.push(`${this.name}${parts.length > 0 ? `{${parts.join(',')}}` : ''} ${formatValue(value)}`);
  }

  render(): string {
    if (this.lines.length === 0) return '';
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n${this.lines.join('\n')}\n`;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  return String(n);
}

function modelLabels(model: ModelDefinition, version: number): Labels {
  const labels: Labels = { model: model.name, version: String(version) };
  for (const [k, v] of Object.entries(model.metricTags)) labels[`_${k}`] = v;
  return labels;
}

export function renderMetrics(core: SimulatorCore): string {
  const f = {
    success: new Family('nv_inference_request_success', 'counter', 'Number of successful inference requests, all batch sizes'),
    failure: new Family('nv_inference_request_failure', 'counter', 'Number of failed inference requests, all batch sizes'),
    count: new Family('nv_inference_count', 'counter', 'Number of inferences performed (does not include cached requests)'),
    exec: new Family('nv_inference_exec_count', 'counter', 'Number of model executions performed (does not include cached requests)'),
    pending: new Family('nv_inference_pending_request_count', 'gauge', 'Instantaneous number of pending requests awaiting execution per-model.'),
    requestUs: new Family('nv_inference_request_duration_us', 'counter', 'Cumulative inference request duration in microseconds (includes cached requests)'),
    queueUs: new Family('nv_inference_queue_duration_us', 'counter', 'Cumulative inference queuing duration in microseconds (includes cached requests)'),
    inputUs: new Family('nv_inference_compute_input_duration_us', 'counter', 'Cumulative compute input duration in microseconds (does not include cached requests)'),
    inferUs: new Family('nv_inference_compute_infer_duration_us', 'counter', 'Cumulative compute inference duration in microseconds (does not include cached requests)'),
    outputUs: new Family('nv_inference_compute_output_duration_us', 'counter', 'Cumulative inference compute output duration in microseconds (does not include cached requests)'),
    trtRequests: new Family('nv_trt_llm_request_metrics', 'gauge', 'TRT LLM request metrics'),
    trtKv: new Family('nv_trt_llm_kv_cache_block_metrics', 'gauge', 'TRT LLM KV cache block metrics'),
    trtBatcher: new Family('nv_trt_llm_inflight_batcher_metrics', 'gauge', 'TRT LLM inflight batcher metrics'),
    trtMemory: new Family('nv_trt_llm_runtime_memory_metrics', 'gauge', 'TRT LLM runtime memory metrics'),
    trtGeneral: new Family('nv_trt_llm_general_metrics', 'gauge', 'General TRT LLM metrics'),
    vllmPrompt: new Family('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.'),
    vllmGeneration: new Family('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.'),
    gpuUtil: new Family('nv_gpu_utilization', 'gauge', 'GPU utilization rate [0.0 - 1.0)'),
    gpuTotal: new Family('nv_gpu_memory_total_bytes', 'gauge', 'GPU total memory, in bytes'),
    gpuUsed: new Family('nv_gpu_memory_used_bytes', 'gauge', 'GPU used memory, in bytes'),
    gpuPower: new Family('nv_gpu_power_usage', 'gauge', 'GPU power usage in watts'),
    gpuLimit: new Family('nv_gpu_power_limit', 'gauge', 'GPU power management limit in watts'),
    gpuEnergy: new Family('nv_energy_consumption', 'counter', 'GPU energy consumption in joules since the Triton Server started'),
    cpuUtil: new Family('nv_cpu_utilization', 'gauge', 'CPU utilization rate [0.0 - 1.0]'),
    cpuTotal: new Family('nv_cpu_memory_total_bytes', 'gauge', 'CPU total memory (RAM), in bytes'),
    cpuUsed: new Family('nv_cpu_memory_used_bytes', 'gauge', 'CPU used memory (RAM), in bytes'),
  };

  const repo = core.repository;
  for (const model of repo.models()) {
    const counters = core.countersFor(model.name)!;
    const ready = repo.readyVersions(model.name);
    const versions = [...new Set([...ready, ...counters.byVersion.keys()])].sort((a, b) => a - b);
    const scheduler = core.schedulerFor(model.name)!;
    const servedVersion = ready[ready.length - 1];
    for (const v of versions) {
      const labels = modelLabels(model, v);
      const s: ModelStats = counters.version(v);
      f.success.add(labels, s.success.count);
      for (const reason of ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'] as const) f.failure.add({ ...labels, reason }, s.failures[reason]);
      f.count.add(labels, s.inferenceCount);
      f.exec.add(labels, s.executionCount);
      f.pending.add(labels, v === servedVersion ? scheduler.queued : 0);
      f.requestUs.add(labels, Math.round((s.success.ns + s.fail.ns) / 1000));
      f.queueUs.add(labels, Math.round(s.queue.ns / 1000));
      f.inputUs.add(labels, Math.round(s.computeInput.ns / 1000));
      f.inferUs.add(labels, Math.round(s.computeInfer.ns / 1000));
      f.outputUs.add(labels, Math.round(s.computeOutput.ns / 1000));
    }
    if (servedVersion === undefined) continue;
    const labels = modelLabels(model, servedVersion);
    const totals = [...counters.byVersion.values()].reduce(
      (t, s) => ({ prompt: t.prompt + s.promptTokens, generated: t.generated + s.generationTokens }),
      { prompt: 0, generated: 0 },
    );
    if (model.flavour === 'ensemble' || model.flavour === 'tensorrt_llm_bls' || model.flavour === 'llmapi') {
      const request = (request_type: string, n: number) => f.trtRequests.add({ ...labels, request_type }, n);
      request('active', scheduler.running);
      request('max', model.concurrency);
      request('scheduled', scheduler.running);
      request('context', 0);
      request('waiting', scheduler.queued);
      const used = Math.min(model.kv.maxBlocks, Math.ceil(counters.inflightTokens / model.kv.blockTokens));
      const reused = core.kvCaches(model.name).reduce((n, c) => n + c.reusedBlocksTotal, 0);
      const kv = (kv_cache_block_type: string, n: number) => f.trtKv.add({ ...labels, kv_cache_block_type }, n);
      kv('max', model.kv.maxBlocks);
      kv('free', model.kv.maxBlocks - used);
      kv('used', used);
      kv('tokens_per', model.kv.blockTokens);
      kv('reused', reused);
      kv('fraction', used / model.kv.maxBlocks);
      const batcher = (inflight_batcher_specific_metric: string, n: number) => f.trtBatcher.add({ ...labels, inflight_batcher_specific_metric }, n);
      batcher('total_context_tokens', 0);
      batcher('generation_requests', scheduler.running);
      batcher('micro_batch_id', 0);
      batcher('paused_requests', 0);
      f.trtMemory.add({ ...labels, memory_type: 'cpu' }, 0);
      f.trtMemory.add({ ...labels, memory_type: 'gpu' }, Math.round(counters.inflightTokens * model.kv.bytesPerToken));
      f.trtMemory.add({ ...labels, memory_type: 'pinned' }, 0);
      f.trtGeneral.add({ ...labels, general_type: 'timestamp' }, Date.now() * 1000);
      f.trtGeneral.add({ ...labels, general_type: 'iteration_counter' }, totals.generated);
    }
    if (model.flavour === 'vllm' && model.parameters.REPORT_CUSTOM_METRICS === 'true') {
      f.vllmPrompt.add(labels, totals.prompt);
      f.vllmGeneration.add(labels, totals.generated);
    }
  }

  for (const g of core.gpu.snapshot()) {
    const labels = { gpu_uuid: g.uuid };
    f.gpuUtil.add(labels, g.utilization);
    f.gpuTotal.add(labels, g.memoryTotalBytes);
    f.gpuUsed.add(labels, g.memoryUsedBytes);
    f.gpuPower.add(labels, g.powerWatts);
    f.gpuLimit.add(labels, g.powerLimitWatts);
    f.gpuEnergy.add(labels, Math.round(g.energyJoules));
  }
  const cpus = Math.max(1, os.cpus().length);
  f.cpuUtil.add({}, Math.min(1, os.loadavg()[0]! / cpus));
  f.cpuTotal.add({}, os.totalmem());
  f.cpuUsed.add({}, os.totalmem() - os.freemem());

  return Object.values(f)
    .map((family) => family.render())
    .join('');
}
