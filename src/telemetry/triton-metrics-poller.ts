/**
 * Reads each Triton target's Prometheus endpoint on an interval and re-exports what on-call
 * needs from the gateway's own /metrics: GPU utilisation and memory per GPU, and Triton's
 * pending request count per model. When a target cannot be read its values are dropped, not
 * left stale, and the scrape-error counter and last-success time (0 until the first read) say so.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import type { Logger } from 'pino';
import type { TargetConfig } from '../config.js';
import { describeFetchError, splitCredentials, urlOrigin } from '../secret-urls.js';
import type { Metrics } from './metrics.js';

export interface GpuSnapshot {
  id: string;
  target: string;
  utilizationPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  memoryPercent: number | null;
}

export interface TargetMetricsSnapshot {
  target: string;
  /** The endpoint's origin only: a metricsUrl may carry credentials or a token. */
  url: string;
  lastSuccessAt: number | null;
  lastError: string | null;
  gpus: GpuSnapshot[];
  pendingRequests: Record<string, number>;
}

function samples(families: ParsedFamily[], name: string): Array<{ labels: Record<string, string>; value: number }> {
  const family = families.find((f) => f.name === name);
  if (!family) return [];
  return family.metrics
    .filter((m) => m.value !== undefined)
    .map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }))
    .filter((s) => Number.isFinite(s.value));
}

/** Pure: Triton's text format → GPU and pending-request values (unit-tested on its own). */
export function readTritonMetrics(text: string, target: string): { gpus: GpuSnapshot[]; pendingRequests: Record<string, number> } {
  const families = parsePrometheusTextFormat(text);
  const gpus = new Map<string, GpuSnapshot>();
  const gpu = (uuid: string): GpuSnapshot => {
    let g = gpus.get(uuid);
    if (!g) {
      g = { id: uuid, target, utilizationPercent: null, memoryUsedBytes: null, memoryTotalBytes: null, memoryPercent: null };
      gpus.set(uuid, g);
    }
    return g;
  };
  for (const s of samples(families, 'nv_gpu_utilization')) gpu(s.labels.gpu_uuid ?? 'unknown').utilizationPercent = s.value * 100;
  for (const s of samples(families, 'nv_gpu_memory_used_bytes')) gpu(s.labels.gpu_uuid ?? 'unknown').memoryUsedBytes = s.value;
  for (const s of samples(families, 'nv_gpu_memory_total_bytes')) gpu(s.labels.gpu_uuid ?? 'unknown').memoryTotalBytes = s.value;
  for (const g of gpus.values()) {
    if (g.memoryUsedBytes !== null && g.memoryTotalBytes) g.memoryPercent = (g.memoryUsedBytes / g.memoryTotalBytes) * 100;
  }
  const pendingRequests: Record<string, number> = {};
  for (const s of samples(families, 'nv_inference_pending_request_count')) {
    const model = s.labels.model ?? 'unknown';
    pendingRequests[model] = (pendingRequests[model] ?? 0) + s.value;
  }
  return { gpus: [...gpus.values()], pendingRequests };
}

export class TritonMetricsPoller {
  private readonly snapshots = new Map<string, TargetMetricsSnapshot>();
  /** What each target is fetched with: the URL without its userinfo, which goes in a Basic header. */
  private readonly requests = new Map<string, { url: string; headers: Record<string, string> }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly targets: TargetConfig[],
    private readonly intervalMs: number,
    private readonly metrics: Metrics,
    private readonly log: Pick<Logger, 'warn' | 'info'>,
    /** Only these model names become `triton_pending_requests` labels (bounded cardinality). */
    private readonly knownModels: () => Set<string>,
  ) {
    for (const t of targets) {
      if (!t.metricsUrl) continue;
      const { url, authorization } = splitCredentials(t.metricsUrl);
      this.requests.set(t.name, { url, headers: authorization ? { authorization } : {} });
      this.snapshots.set(t.name, { target: t.name, url: urlOrigin(t.metricsUrl), lastSuccessAt: null, lastError: null, gpus: [], pendingRequests: {} });
      // "Never read" as 0 (1970), not an absent series: TritonMetricsStale's `time() - last
      // success` then fires for a wrong metricsUrl or a port unreachable since start-up too.
      metrics.tritonLastScrape.set({ target: t.name }, 0);
    }
  }

  snapshot(): TargetMetricsSnapshot[] {
    return [...this.snapshots.values()];
  }

  start(): void {
    if (this.snapshots.size === 0) return;
    const tick = async (): Promise<void> => {
      await this.pollAll();
      if (!this.stopped) {
        this.timer = setTimeout(() => void tick(), this.intervalMs);
        this.timer.unref();
      }
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  async pollAll(): Promise<void> {
    await Promise.all(this.targets.filter((t) => t.metricsUrl).map((t) => this.poll(t.name)));
  }

  private async poll(target: string): Promise<void> {
    const snap = this.snapshots.get(target)!;
    const m = this.metrics;
    try {
      const request = this.requests.get(target)!;
      const res = await fetch(request.url, { headers: request.headers, signal: AbortSignal.timeout(Math.min(5_000, this.intervalMs)) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const read = readTritonMetrics(await res.text(), target);
      this.drop(snap);
      for (const g of read.gpus) {
        if (g.utilizationPercent !== null) m.gpuUtilization.set({ gpu_id: g.id }, g.utilizationPercent);
        if (g.memoryUsedBytes !== null) m.gpuMemoryUsed.set({ gpu_id: g.id }, g.memoryUsedBytes);
        if (g.memoryTotalBytes !== null) m.gpuMemoryTotal.set({ gpu_id: g.id }, g.memoryTotalBytes);
      }
      const known = this.knownModels();
      for (const [model, n] of Object.entries(read.pendingRequests)) {
        if (known.has(model)) m.tritonPendingRequests.set({ target, model }, n);
      }
      snap.gpus = read.gpus;
      snap.pendingRequests = read.pendingRequests;
      snap.lastSuccessAt = Date.now();
      if (snap.lastError) this.log.info({ target }, "Triton's metrics endpoint readable again");
      snap.lastError = null;
      m.tritonLastScrape.set({ target }, snap.lastSuccessAt / 1000);
    } catch (err) {
      // fetch quotes the whole URL in its errors; these go to the log and /debug/diagnostics.
      const message = describeFetchError(err);
      if (!snap.lastError) this.log.warn({ target, err: message }, "cannot read Triton's metrics endpoint; dropping its values");
      snap.lastError = message;
      m.tritonScrapeErrors.inc({ target });
      this.drop(snap);
      snap.gpus = [];
      snap.pendingRequests = {};
    }
  }

  /** Removes the series a target exported last time, so nothing stale is scraped. */
  private drop(snap: TargetMetricsSnapshot): void {
    for (const g of snap.gpus) {
      this.metrics.gpuUtilization.remove({ gpu_id: g.id });
      this.metrics.gpuMemoryUsed.remove({ gpu_id: g.id });
      this.metrics.gpuMemoryTotal.remove({ gpu_id: g.id });
    }
    for (const model of Object.keys(snap.pendingRequests)) this.metrics.tritonPendingRequests.remove({ target: snap.target, model });
  }
}
