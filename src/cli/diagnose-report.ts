/**
 * Pure: a /debug/diagnostics snapshot → a readable summary and the list of things that look
 * wrong. Reads the JSON defensively (a field missing in an older gateway is skipped, not a crash).
 */
import { errorTable } from '../errors.js';
import { formatBytes } from './byte-sizes.js';

type Json = Record<string, unknown>;

export interface Finding {
  severity: 'critical' | 'warning';
  text: string;
}

export interface DiagnoseReport {
  summary: string[];
  findings: Finding[];
}

export interface DiagnoseLimits {
  /** A Triton metrics scrape older than this is stale. */
  staleSeconds: number;
  gpuMemoryPercent: number;
  /** An event-loop delay p99 above this means the gateway process is saturated. */
  eventLoopDelayMs: number;
  diskPercent: number;
  /** Recent errors inside this window count as a finding. */
  recentErrorWindowMs: number;
}

export const DEFAULT_LIMITS: DiagnoseLimits = { staleSeconds: 60, gpuMemoryPercent: 90, eventLoopDelayMs: 200, diskPercent: 90, recentErrorWindowMs: 5 * 60_000 };

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function bytes(n: number | undefined): string {
  return n === undefined ? '?' : formatBytes(n);
}

function pct(n: number | undefined): string {
  return n === undefined ? '?' : `${n.toFixed(1)}%`;
}

/**
 * Pads a column to its longest value (at least `min`, the width short names always had) and
 * adds two spaces, so a long name never runs into the next column.
 */
function column(values: string[], min: number): (value: string) => string {
  const width = Math.max(min, ...values.map((v) => v.length));
  return (value) => `${value.padEnd(width)}  `;
}

/** `process.eventLoop.delayMs` as /debug/diagnostics answers it: percentiles in ms, null before the first runtime sample. */
function eventLoopDelay(delayMs: unknown): string {
  // The gateway samples every 5 s, so a snapshot taken right after start has none yet.
  if (delayMs === null) return 'not sampled yet';
  const d = obj(delayMs);
  const [p50, p99, max] = [num(d.p50), num(d.p99), num(d.max)];
  if (p99 === undefined) return '? ms';
  return `p99 ${p99.toFixed(1)} ms${p50 !== undefined && max !== undefined ? ` (p50 ${p50.toFixed(1)}, max ${max.toFixed(1)})` : ''}`;
}

/**
 * A failure on the gateway's or Triton's side: an error whose code answers 5xx, or `overloaded`,
 * the 429 the gateway answers when its own admission queue is full. Read by the code, not the
 * row's status: a stream that failed mid-way was answered 200 before its error. Other 4xx are
 * the client's (a bad API key, an unknown model, its own rate limit) and say nothing about the
 * gateway's health. A row whose code this CLI does not know falls back on its status, and one
 * without either counts rather than hides.
 */
function serverSide(e: Json): boolean {
  if (e.code === 'overloaded') return true;
  const known = typeof e.code === 'string' && Object.hasOwn(errorTable, e.code) ? errorTable[e.code as keyof typeof errorTable].status : undefined;
  const status = known ?? num(e.status);
  return status === undefined || status >= 500;
}

/** `code ×n, ...`, most frequent first. */
function tally(errors: Json[]): string {
  const byCode = new Map<string, number>();
  for (const e of errors) byCode.set(String(e.code), (byCode.get(String(e.code)) ?? 0) + 1);
  return [...byCode.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ×${n}`).join(', ');
}

export function diagnose(snapshot: unknown, limits: DiagnoseLimits = DEFAULT_LIMITS): DiagnoseReport {
  const d = obj(snapshot);
  const summary: string[] = [];
  const findings: Finding[] = [];
  const crit = (text: string) => findings.push({ severity: 'critical', text });
  const warn = (text: string) => findings.push({ severity: 'warning', text });
  const generatedAt = Date.parse(str(d.generatedAt) ?? '') || Date.now();

  const build = obj(d.build);
  const proc = obj(d.process);
  const loop = obj(proc.eventLoop);
  summary.push(`Gateway ${str(build.version) ?? '?'}${build.commit ? ` (${String(build.commit).slice(0, 12)})` : ''} on ${str(obj(d.system).hostname) ?? '?'}, snapshot ${str(d.generatedAt) ?? '?'}`);
  summary.push(`  process   pid ${num(proc.pid) ?? '?'}, up ${num(proc.uptimeSeconds) ?? '?'}s, rss ${bytes(num(obj(proc.memory).rssBytes))}, event-loop delay ${eventLoopDelay(loop.delayMs)}`);
  // p99, not max: one GC pause or a synchronous start-up step sets max; p99 says the loop keeps stalling.
  const delayP99 = num(obj(loop.delayMs).p99);
  if (delayP99 !== undefined && delayP99 > limits.eventLoopDelayMs) warn(`event-loop delay p99 is ${delayP99.toFixed(0)} ms (over ${limits.eventLoopDelayMs} ms): the gateway process is saturated`);
  const disk = obj(obj(d.system).disk);
  const diskUsed = num(disk.usedPercent);
  if (diskUsed !== undefined && diskUsed > limits.diskPercent) warn(`disk ${str(disk.path) ?? ''} is ${pct(diskUsed)} full`);

  const admission = obj(d.admission);
  summary.push(`  admission in flight ${num(admission.inFlight) ?? '?'}, queued ${num(admission.queued) ?? '?'}${admission.draining ? ', DRAINING' : ''}`);
  if (admission.draining === true) crit('the gateway is draining (shutting down): it refuses new requests');

  summary.push('Triton targets');
  const targets = arr(d.triton);
  const targetName = column(targets.map((t) => String(t.name)), 15);
  const readiness = column(targets.map((t) => (t.ready === true ? 'ready' : 'NOT READY')), 0);
  for (const t of targets) {
    const m = t.metrics === null || t.metrics === undefined ? undefined : obj(t.metrics);
    const age = m ? num(m.lastSuccessAgeSeconds) : undefined;
    const scrape = !m ? 'no metrics URL' : age === undefined ? `metrics never scraped${m.lastError ? ` (${String(m.lastError)})` : ''}` : `metrics scraped ${age}s ago`;
    summary.push(`  ${targetName(String(t.name))}${readiness(t.ready === true ? 'ready' : 'NOT READY')}${scrape}`);
    if (t.ready !== true) crit(`Triton target ${String(t.name)} is not ready (TritonDown runbook)`);
    if (m && (age === undefined || age > limits.staleSeconds)) {
      warn(`Triton metrics of ${String(t.name)} are stale (${age === undefined ? 'never scraped' : `last success ${age}s ago`}${m.lastError ? `: ${String(m.lastError)}` : ''}) (TritonMetricsStale runbook)`);
    }
  }

  summary.push('Models');
  const models = arr(d.models);
  const modelName = column(models.map((m) => String(m.name)), 15);
  const modelState = column(models.map((m) => str(m.state) ?? '?'), 12);
  for (const m of models) {
    const warmup = obj(m.lastWarmup);
    const state = str(m.state) ?? '?';
    const flags = [m.disabled === true ? 'DISABLED' : '', m.forceFallback === true ? 'FORCED-FALLBACK' : ''].filter(Boolean).join(' ');
    const versions = Array.isArray(m.versions) ? (m.versions as unknown[]).join(',') : '';
    summary.push(`  ${modelName(String(m.name))}${modelState(state)}${String(m.tritonModel ?? '')}@${String(m.target ?? '')} v${versions || '?'}${num(warmup.durationMs) !== undefined ? `  warm-up ${num(warmup.durationMs)!.toFixed(0)} ms` : ''}${flags ? `  ${flags}` : ''}`);
    if (state !== 'ready') crit(`model ${String(m.name)} is ${state}${m.lastError ? `: ${String(m.lastError)}` : ''}`);
    if (m.disabled === true) warn(`model ${String(m.name)} is disabled by an emergency control`);
    if (m.forceFallback === true) warn(`model ${String(m.name)} is forced onto its fallbacks`);
  }

  const gpus = arr(d.gpus);
  if (gpus.length > 0) {
    summary.push('GPUs (as Triton reports them)');
    for (const g of gpus) {
      const used = num(g.memoryUsedBytes);
      const total = num(g.memoryTotalBytes);
      const percent = num(g.memoryPercent) ?? (used !== undefined && total ? (used / total) * 100 : undefined);
      summary.push(`  ${String(g.target ?? '')}/${String(g.id)}  util ${pct(num(g.utilizationPercent))}  memory ${bytes(used)} / ${bytes(total)} (${pct(percent)})`);
      if (percent !== undefined && percent > limits.gpuMemoryPercent) warn(`GPU ${String(g.id)} on ${String(g.target ?? '?')} memory is ${pct(percent)} used (over ${limits.gpuMemoryPercent}%) (GPUMemoryPressure runbook)`);
    }
  }

  const breakers: Json[] = Array.isArray(d.breakers) ? arr(d.breakers) : Object.entries(obj(d.breakers)).map(([k, v]): Json => ({ name: k, ...obj(v) }));
  const notClosed = breakers.filter((b) => b.state !== undefined && b.state !== 'closed');
  if (breakers.length > 0) summary.push(`Breakers  ${breakers.length} (${notClosed.length} not closed)`);
  for (const b of notClosed) {
    const name = b.target !== undefined ? `${String(b.target)}/${String(b.model)}` : String(b.name);
    (b.state === 'open' ? crit : warn)(`circuit breaker ${name} is ${String(b.state)}${b.retryAt ? ` (next try ${String(b.retryAt)})` : ''} (CircuitBreakerOpen runbook)`);
  }

  const chaos = obj(d.chaos);
  if (chaos.enabled === true) warn(`chaos fault injection is ENABLED (rate ${String(chaos.rate)}): turn it off unless this is a drill`);

  const errors = arr(d.recentErrors);
  const recent = errors.filter((e) => {
    const at = Date.parse(str(e.at) ?? '');
    return Number.isFinite(at) && generatedAt - at <= limits.recentErrorWindowMs;
  });
  const windowText = `in the last ${Math.round(limits.recentErrorWindowMs / 60_000)} min`;
  const recentServer = recent.filter(serverSide);
  const recentClient = recent.filter((e) => !serverSide(e));
  if (errors.length > 0) {
    summary.push(`Recent errors (${errors.length}, newest first)`);
    // model is null for a request refused before a model was resolved (a bad API key): no model to name.
    for (const e of errors.slice(0, 5)) {
      const model = str(e.model);
      summary.push(`  ${String(e.at)}  ${String(e.status)} ${String(e.code)}${model === undefined ? '' : `  model ${model}`}  request ${String(e.requestId)}`);
    }
    if (recentClient.length > 0) summary.push(`  client errors ${windowText} (not counted as problems): ${tally(recentClient)}`);
  }
  if (recentServer.length > 0) warn(`${recentServer.length} failed request(s) ${windowText}: ${tally(recentServer)}`);

  const anomalies = arr(d.anomalies);
  if (anomalies.length > 0) {
    const a = anomalies[0]!;
    warn(`${anomalies.length} anomal${anomalies.length === 1 ? 'y' : 'ies'} detected; latest: ${String(a.signal)} on ${String(a.model)}`);
  }

  return { summary, findings };
}

export function renderReport(report: DiagnoseReport): string {
  const out = [...report.summary, ''];
  if (report.findings.length === 0) {
    out.push('Nothing looks wrong.');
  } else {
    out.push(`What looks wrong (${report.findings.length}):`);
    const ordered = [...report.findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
    for (const f of ordered) out.push(`  ${f.severity === 'critical' ? '✗ CRITICAL' : '! warning '} ${f.text}`);
  }
  return `${out.join('\n')}\n`;
}
