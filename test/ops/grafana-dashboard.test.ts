/**
 * The Grafana dashboard shows what on-call looks at first — requests, errors, latency, tokens,
 * time to first token, queue delay, KV reuse, speculative acceptance, breakers, GPUs — through a
 * datasource variable, with panels that do not overlap.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { metricNamesInDashboard } from '../helpers/promql-metric-names.js';
import { readJson } from './support/repo-files.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

const dashboard = readJson<{ uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string }[] } }>(
  'deploy/grafana/dashboards/triton-gateway.json',
);
const panels = dashboard.panels.filter((p) => p.type !== 'row');

describe('Grafana dashboard', () => {
  test('covers requests, errors, latency, tokens, TTFT, queue delay, KV reuse, acceptance, breakers and GPUs', () => {
    const names = new Set(metricNamesInDashboard(dashboard));
    for (const name of [
      'http_requests_total', 'errors_total', 'request_duration_seconds_bucket', 'tokens_generated_total', 'tokens_input_total',
      'time_to_first_token_seconds_bucket', 'triton_queue_delay_seconds_bucket', 'kv_cache_reused_blocks_total',
      'speculative_accepted_tokens_total', 'circuit_breaker_state', 'gpu_utilization_percent', 'gpu_memory_used_bytes',
    ]) {
      assert.ok(names.has(name), `no panel uses ${name}`);
    }
  });

  // A non-streamed request's first token is its whole answer: mixed in, it put the panel above
  // the SLO line on healthy traffic, as it did the alert.
  test('shows time to first token as LatencySLOBreached measures it: streamed requests only', () => {
    const ttft = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).filter((e) => e.includes('time_to_first_token_seconds_bucket'));
    assert.ok(ttft.length > 0, 'no time-to-first-token panel');
    for (const expr of ttft) assert.match(expr, /time_to_first_token_seconds_bucket\{[^}]*\bstream="true"/, expr);
  });

  test('queries through the datasource variable and has unique panel ids', () => {
    assert.ok(dashboard.uid && dashboard.title);
    assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const panel of panels) {
      assert.equal(panel.datasource?.uid, '${datasource}', panel.title);
      assert.ok((panel.targets ?? []).length > 0, `${panel.title}: no query`);
    }
  });

  test('lays panels out on the 24-column grid without overlaps', () => {
    assert.ok(dashboard.panels.length >= 4, 'the dashboard has its panels');
    for (const [i, a] of dashboard.panels.entries()) {
      assert.ok(a.gridPos.x + a.gridPos.w <= 24, `${a.title} is wider than the grid`);
      for (const b of dashboard.panels.slice(i + 1)) {
        const apart = a.gridPos.x + a.gridPos.w <= b.gridPos.x || b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y || b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        assert.ok(apart, `${a.title} overlaps ${b.title}`);
      }
    }
  });
});
