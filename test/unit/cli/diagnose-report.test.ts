/**
 * What `ops diagnose` points at, from a diagnostics snapshot: each kind of trouble produces one
 * finding that names the thing and the runbook, critical ones first; a healthy snapshot none.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnose, renderReport } from '../../../src/cli/diagnose-report.js';

const at = '2025-11-18T14:30:00.000Z';
const healthy = {
  generatedAt: at,
  build: { version: '0.1.0', commit: 'abcdef1234567890' },
  system: { hostname: 'gw-1', disk: { path: '/', usedPercent: 40 } },
  // As /debug/diagnostics answers it (src/routes/debug.ts): delay percentiles in ms, null before the first sample.
  process: { pid: 7, uptimeSeconds: 100, memory: { rssBytes: 200 * 1024 ** 2 }, eventLoop: { delayMs: { p50: 20.3, p99: 23.27, max: 30.1 }, utilization: 0.09 } },
  admission: { inFlight: 1, queued: 0, draining: false },
  triton: [{ name: 'primary', ready: true, metrics: { lastSuccessAgeSeconds: 4, lastError: null } }],
  models: [{ name: 'llama-3-8b', state: 'ready', tritonModel: 'llama-3-8b-trtllm', target: 'primary', versions: ['1'], disabled: false, forceFallback: false, lastWarmup: { durationMs: 12 } }],
  gpus: [{ id: 'GPU-0', target: 'primary', utilizationPercent: 40, memoryUsedBytes: 40e9, memoryTotalBytes: 80e9, memoryPercent: 50 }],
  breakers: [{ target: 'primary', model: 'llama-3-8b-trtllm', state: 'closed' }],
  chaos: { enabled: false },
  recentErrors: [],
};

test('a healthy snapshot has no findings and a readable summary', () => {
  const report = diagnose(healthy);
  assert.deepEqual(report.findings, []);
  const text = renderReport(report);
  assert.match(text, /^Gateway 0\.1\.0 \(abcdef123456\) on gw-1/);
  assert.match(text, /primary {10}ready {2}metrics scraped 4s ago/);
  assert.match(text, /llama-3-8b {7}ready {9}llama-3-8b-trtllm@primary v1 {2}warm-up 12 ms/);
  assert.match(text, /memory 37\.3 GiB \/ 74\.5 GiB \(50\.0%\)/);
  assert.match(text, /Nothing looks wrong\./);
});

test('points at every problem, critical first', () => {
  const sick = {
    ...healthy,
    admission: { inFlight: 0, queued: 0, draining: true },
    triton: [
      { name: 'primary', ready: true, metrics: { lastSuccessAgeSeconds: 300, lastError: 'ECONNREFUSED' } },
      { name: 'secondary', ready: false, metrics: null },
    ],
    models: [
      { ...healthy.models[0], state: 'warmup_failed', lastError: 'model_not_ready: warm-up failed: empty text' },
      { name: 'qwen3', state: 'ready', disabled: true, forceFallback: false, versions: ['3'] },
    ],
    gpus: [{ id: 'GPU-0', target: 'primary', memoryUsedBytes: 76e9, memoryTotalBytes: 80e9, memoryPercent: null }],
    breakers: [
      { target: 'primary', model: 'llama-3-8b-trtllm', state: 'open', retryAt: '2025-11-18T14:30:10.000Z' },
      { target: 'primary', model: 'qwen3-vllm', state: 'half_open' },
    ],
    chaos: { enabled: true, rate: 0.05 },
    recentErrors: [
      { at: '2025-11-18T14:29:00.000Z', requestId: 'r1', model: 'llama-3-8b', code: 'upstream_unavailable', status: 503 },
      { at: '2025-11-18T14:28:00.000Z', requestId: 'r2', model: 'llama-3-8b', code: 'upstream_unavailable', status: 503 },
      { at: '2025-11-18T13:00:00.000Z', requestId: 'r3', model: 'llama-3-8b', code: 'upstream_timeout', status: 504 },
    ],
  };
  const report = diagnose(sick);
  const texts = report.findings.map((f) => `${f.severity}: ${f.text}`);
  const expected = [
    /critical: the gateway is draining/,
    /warning: Triton metrics of primary are stale \(last success 300s ago: ECONNREFUSED\)/,
    /critical: Triton target secondary is not ready/,
    /critical: model llama-3-8b is warmup_failed: model_not_ready: warm-up failed: empty text/,
    /warning: model qwen3 is disabled/,
    /warning: GPU GPU-0 on primary memory is 95\.0% used/,
    /critical: circuit breaker primary\/llama-3-8b-trtllm is open/,
    /warning: circuit breaker primary\/qwen3-vllm is half_open/,
    /warning: chaos fault injection is ENABLED/,
    /warning: 2 failed request\(s\) in the last 5 min: upstream_unavailable ×2/,
  ];
  assert.equal(texts.length, expected.length, texts.join('\n'));
  expected.forEach((re, i) => assert.match(texts[i]!, re));
  const text = renderReport(report);
  const firstWarning = text.indexOf('! warning');
  const lastCritical = text.lastIndexOf('✗ CRITICAL');
  assert.ok(lastCritical < firstWarning, 'critical findings are listed first');
});

test('fields missing from an older gateway are skipped, not a crash', () => {
  const report = diagnose({ generatedAt: at, models: [{ name: 'm', state: 'ready' }] });
  assert.deepEqual(report.findings, []);
  assert.match(renderReport(report), /m {16}ready/);
  assert.doesNotThrow(() => diagnose(null));
});

test('event-loop delay: the summary shows p99 (p50, max); a p99 over the limit is saturation, a lone max spike is not', () => {
  assert.match(renderReport(diagnose(healthy)), /event-loop delay p99 23\.3 ms \(p50 20\.3, max 30\.1\)/);
  const loop = (delayMs: unknown) => ({ ...healthy, process: { ...healthy.process, eventLoop: { delayMs, utilization: 0.9 } } });

  const saturated = diagnose(loop({ p50: 40, p99: 350, max: 900 }));
  assert.deepEqual(saturated.findings, [{ severity: 'warning', text: 'event-loop delay p99 is 350 ms (over 200 ms): the gateway process is saturated' }]);

  // One GC pause or a synchronous start-up step sets max; p99 says whether the loop keeps stalling.
  assert.deepEqual(diagnose(loop({ p50: 20, p99: 25, max: 900 })).findings, []);
  assert.match(renderReport(diagnose(loop(null))), /event-loop delay not sampled yet/);
});

test('a name longer than the column: columns stay two spaces apart and aligned', () => {
  const longNames = {
    ...healthy,
    triton: [...healthy.triton, { name: 'secondary-us-east-1', ready: true, metrics: null }],
    models: [...healthy.models, { ...healthy.models[0], name: 'llama-3-8b-llmapi', tritonModel: 'llama-3-8b-llmapi' }],
  };
  const text = renderReport(diagnose(longNames));
  assert.match(text, /\n {2}llama-3-8b-llmapi {2}ready {9}llama-3-8b-llmapi@primary/);
  assert.match(text, /\n {2}llama-3-8b {9}ready {9}llama-3-8b-trtllm@primary/);
  assert.match(text, /\n {2}secondary-us-east-1 {2}ready {2}no metrics URL/);
  assert.match(text, /\n {2}primary {14}ready {2}metrics scraped 4s ago/);
});

test('recent errors: one refused before a model was resolved is listed without a model', () => {
  const text = renderReport(
    diagnose({ ...healthy, recentErrors: [{ at: '2025-11-18T14:29:00.000Z', requestId: 'r1', model: null, code: 'invalid_api_key', status: 401 }] }),
  );
  assert.match(text, /\n {2}2025-11-18T14:29:00\.000Z {2}401 invalid_api_key {2}request r1\n/);
  assert.doesNotMatch(text, /model null/);
});

test('client errors are information, not findings; gateway and upstream errors are', () => {
  const errors = (...rows: Array<[code: string, status: number]>) => ({
    ...healthy,
    recentErrors: rows.map(([code, status], i) => ({ at: '2025-11-18T14:29:00.000Z', requestId: `r${i}`, model: status === 401 ? null : 'llama-3-8b', code, status })),
  });
  const clientOnly = diagnose(errors(['invalid_api_key', 401], ['invalid_api_key', 401], ['model_not_found', 404], ['rate_limited', 429], ['client_cancelled', 499]));
  assert.deepEqual(clientOnly.findings, []);
  const text = renderReport(clientOnly);
  assert.match(text, /client errors in the last 5 min \(not counted as problems\): invalid_api_key ×2, model_not_found ×1, rate_limited ×1, client_cancelled ×1/);
  assert.match(text, /Nothing looks wrong\./);

  // `overloaded` is a 429 the gateway answers when it is at capacity: its own trouble, not the client's.
  const mixed = diagnose(errors(['invalid_api_key', 401], ['upstream_unavailable', 503], ['overloaded', 429]));
  assert.deepEqual(mixed.findings.map((f) => f.text), ['2 failed request(s) in the last 5 min: upstream_unavailable ×1, overloaded ×1']);

  // A stream that failed after its first byte was answered 200: its code says whose failure it was.
  const midStream = diagnose(errors(['upstream_unavailable', 200], ['upstream_stream_incomplete', 200], ['client_cancelled', 200]));
  assert.deepEqual(midStream.findings.map((f) => f.text), ['2 failed request(s) in the last 5 min: upstream_unavailable ×1, upstream_stream_incomplete ×1']);
  assert.match(renderReport(midStream), /not counted as problems\): client_cancelled ×1/);
});
