/**
 * Contract: every metric name the alert rules, the Grafana dashboard and the runbooks' PromQL use
 * is exported by the running gateway (GET /metrics) or by Triton (the simulator's metrics port),
 * or is a recording rule's output or a series Prometheus makes itself. Checked against real
 * scrapes taken after real traffic, so a renamed or removed metric fails here, not on a dashboard
 * that silently goes blank during an incident. docs/metrics.md is held to the same scrape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { extractMetricNames, metricNamesInDashboard, metricNamesInRules, recordedNames } from '../helpers/promql-metric-names.js';
import { resilienceConfig, startResilienceStack } from '../helpers/resilience-stack.js';
import { scrape, type Scrape } from '../helpers/scrape.js';
import { eventually, type Stack } from '../helpers/stack.js';
import { ruleDocuments } from './support/alert-rules.js';
import { readMetricsReference } from './support/known-metrics.js';
import { listFiles, readJson, readText } from './support/repo-files.js';
import { driveSampleTraffic } from './support/sample-traffic.js';
import { exportedMetrics, prometheusSynthetic, type ExportedMetrics } from './support/scraped-metrics.js';

let stack: Stack;
let gatewayScrape: Scrape;
let tritonScrape: Scrape;
let gateway: ExportedMetrics;
let triton: ExportedMetrics;
const recorded = recordedNames(ruleDocuments());

before(async () => {
  // qwen3 also serves chat, so the chat route's series are in the scrape too.
  const models = (resilienceConfig().models as Array<{ name: string }>).map((m) =>
    m.name === 'qwen3' ? { ...m, chatTemplate: { file: 'examples/chat-templates/chatml.jinja' } } : m,
  );
  stack = await startResilienceStack({ config: { models } });
  await driveSampleTraffic(stack);
  // GPU gauges are copied from Triton's metrics on the gateway's own poll.
  await eventually(async () => (await scrape(`${stack.url}/metrics`)).value('gpu_memory_total_bytes') > 0, 5_000, 'GPU gauges from Triton');
  gatewayScrape = await scrape(`${stack.url}/metrics`);
  tritonScrape = await scrape(stack.sim.metricsUrl);
  gateway = exportedMetrics(gatewayScrape);
  triton = exportedMetrics(tritonScrape);
});
after(async () => stack?.close());

/** Where a name used in PromQL comes from, or undefined when nothing provides it. */
function origin(name: string): string | undefined {
  if (recorded.has(name)) return 'recording rule';
  if (prometheusSynthetic.has(name)) return 'Prometheus';
  if (gateway.series.has(name)) return 'gateway';
  if (triton.series.has(name)) return 'Triton';
  return undefined;
}

function unknown(names: Iterable<string>, usedBy?: Map<string, string[]>): string[] {
  return [...names].filter((n) => origin(n) === undefined).map((n) => (usedBy ? `${n} (in ${usedBy.get(n)!.join(', ')})` : n));
}

describe('metric names against a real scrape', () => {
  test('the sample traffic produced requests, errors, fallbacks, aborted streams and GPU readings', () => {
    const s = gatewayScrape;
    // Histogram samples are read from the text: the parser behind Scrape.value() loses the
    // labels of histogram series whose `le` label comes first, as prom-client writes them.
    const histogramCount = (name: string, labels: string) => Number(new RegExp(`^${name}_count\\{${labels}\\} (\\S+)$`, 'm').exec(s.text)?.[1] ?? 0);
    const checks: Array<[string, boolean]> = [
      ['completions answered 200', s.value('http_requests_total', { endpoint: '/v1/completions', status: '200' }) >= 3],
      ['a chat completion answered 200', s.value('http_requests_total', { endpoint: '/v1/chat/completions', status: '200' }) >= 1],
      ['a 5xx answer', s.families.find((f) => f.name === 'http_requests_total')!.metrics.some((m) => /^5\d\d$/.test(m.labels?.status ?? ''))],
      ['errors counted', s.value('errors_total', { endpoint: '/v1/completions' }) > 0],
      ['a fallback to qwen3', s.value('fallbacks_total', { model_name: 'llama-3-8b', served_model: 'qwen3' }) > 0],
      ['a stream aborted mid-way', s.value('streams_aborted_total', { phase: 'mid_stream' }) > 0],
      ['chat request durations', histogramCount('request_duration_seconds', 'endpoint="/v1/chat/completions"') > 0],
      // The sample traffic sends llama-3-8b one stream and non-streamed requests: each under its own stream label.
      ['time to first token of a stream', histogramCount('time_to_first_token_seconds', 'model_name="llama-3-8b",stream="true"') === 1],
      ['time to first token of a non-streamed request', histogramCount('time_to_first_token_seconds', 'model_name="llama-3-8b",stream="false"') > 0],
      ['GPU memory from Triton', s.value('gpu_memory_total_bytes') > 0],
      ["Triton's failure counter", tritonScrape.value('nv_inference_request_failure') > 0],
    ];
    assert.deepEqual(checks.filter(([, ok]) => !ok).map(([what]) => what), []);
  });

  test('every metric the rules use is exported by the gateway or Triton, or recorded', () => {
    const used = metricNamesInRules(ruleDocuments());
    assert.ok(used.size > 20, 'expected the rules to use many metrics');
    assert.deepEqual(unknown(used.keys(), used), []);
  });

  test('every metric the Grafana dashboards use is exported by the gateway or Triton, or recorded', () => {
    const dashboards = listFiles('deploy/grafana', ['.json']);
    assert.ok(dashboards.length > 0, 'no dashboard under deploy/grafana');
    for (const file of dashboards) {
      const names = metricNamesInDashboard(readJson(file));
      assert.ok(names.length > 20, `${file}: expected many metrics`);
      assert.deepEqual(unknown(names), [], file);
    }
  });

  test("every metric in the runbooks' PromQL is exported by the gateway or Triton, or recorded", () => {
    let checked = 0;
    for (const file of listFiles('runbooks', ['.md'])) {
      const blocks = [...readText(file).matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => m[1]!);
      const names = new Set(blocks.flatMap((b) => extractMetricNames(b)));
      checked += names.size;
      assert.deepEqual(unknown(names), [], file);
    }
    assert.ok(checked > 50, `only ${checked} metric uses found in runbook PromQL`);
  });

  test("histogram_quantile is applied only to a histogram's _bucket series, in the rules and the runbooks", () => {
    const texts = [
      ...ruleDocuments().flatMap((doc) => doc.groups.flatMap((g) => g.rules.map((r) => r.expr))),
      ...listFiles('runbooks', ['.md']).map((file) => readText(file)),
    ];
    const quantileArgs: string[] = [];
    for (const text of texts) {
      for (let at = text.indexOf('histogram_quantile('); at !== -1; at = text.indexOf('histogram_quantile(', at + 1)) {
        // The call's own argument list, up to its matching parenthesis.
        let depth = 0;
        let end = at + 'histogram_quantile'.length;
        for (; end < text.length; end++) {
          if (text[end] === '(') depth++;
          else if (text[end] === ')' && --depth === 0) break;
        }
        quantileArgs.push(text.slice(at, end + 1));
      }
    }
    assert.ok(quantileArgs.length >= 5, `only ${quantileArgs.length} histogram_quantile calls found`);
    const wrong: string[] = [];
    for (const call of quantileArgs) {
      for (const name of extractMetricNames(call)) {
        if (recorded.has(name)) continue;
        const info = gateway.series.get(name) ?? triton.series.get(name);
        if (!name.endsWith('_bucket') || info?.type !== 'HISTOGRAM') wrong.push(`${name} (${info ? `a series of ${info.family}, a ${info.type}` : 'not exported'})`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});

describe('docs/metrics.md against a real scrape', () => {
  const reference = readMetricsReference();

  test('every metric it documents is exported, with the documented type', () => {
    const wrong: string[] = [];
    for (const [name, type] of reference.documented) {
      const info = gateway.series.get(name);
      if (!info || info.family !== name) wrong.push(`${name}: not in the scrape`);
      else if (info.type.toLowerCase() !== type) wrong.push(`${name}: documented ${type}, exported ${info.type.toLowerCase()}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('every metric the gateway exports is documented (Node process defaults aside)', () => {
    const undocumented = gatewayScrape.families.map((f) => f.name).filter((n) => !reference.documented.has(n) && !/^(process|nodejs)_/.test(n));
    assert.deepEqual(undocumented, []);
  });

  test("the Triton metrics it names are in the simulator's scrape", () => {
    const text = readText('docs/metrics.md');
    const section = text.slice(text.indexOf("## Triton's own metrics"));
    const names = [...section.matchAll(/`(nv_[a-z0-9_]+)`/g)].map((m) => m[1]!);
    assert.ok(names.length >= 5);
    assert.deepEqual(names.filter((n) => !triton.series.has(n)), []);
  });
});
