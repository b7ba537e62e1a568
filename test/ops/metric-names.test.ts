/**
 * Every metric name the alert rules, the Grafana dashboard and the runbooks' PromQL use is one
 * the gateway documents (docs/metrics.md), one of Triton's, or a recorded series of our rules:
 * a renamed metric breaks here, not silently in production.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractMetricNames, metricNamesInDashboard, metricNamesInRules, recordedNames } from '../helpers/promql-metric-names.js';
import { ruleDocuments } from './support/alert-rules.js';
import { metricSource, readMetricsReference } from './support/known-metrics.js';
import { listFiles, readJson, readText } from './support/repo-files.js';

const reference = readMetricsReference();
const recorded = recordedNames(ruleDocuments());

function unknownNames(names: Iterable<string>): string[] {
  return [...names].filter((n) => metricSource(n, reference, recorded) === undefined);
}

describe('metric names', () => {
  test('docs/metrics.md is readable and lists the classic set', () => {
    for (const name of ['http_requests_total', 'request_duration_seconds', 'gpu_memory_total_bytes', 'errors_total']) {
      assert.ok(reference.documented.has(name), `${name} missing from docs/metrics.md`);
    }
  });

  test('every metric the rules use is exported by the gateway or Triton', () => {
    const used = metricNamesInRules(ruleDocuments());
    assert.ok(used.size > 20, 'expected the rules to use many metrics');
    const unknown = unknownNames(used.keys()).map((n) => `${n} (in ${used.get(n)!.join(', ')})`);
    assert.deepEqual(unknown, []);
  });

  test('every metric the Grafana dashboards use is exported by the gateway or Triton', () => {
    for (const file of listFiles('deploy/grafana/dashboards', ['.json'])) {
      const names = metricNamesInDashboard(readJson(file));
      assert.ok(names.length > 20, `${file}: expected many metrics`);
      assert.deepEqual(unknownNames(names), [], file);
    }
  });

  test("every metric in the runbooks' PromQL is exported by the gateway or Triton", () => {
    let checked = 0;
    for (const file of listFiles('runbooks', ['.md'])) {
      const blocks = [...readText(file).matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => m[1]!);
      const names = new Set(blocks.flatMap((b) => extractMetricNames(b)));
      checked += names.size;
      assert.deepEqual(unknownNames(names), [], file);
    }
    assert.ok(checked > 50, `only ${checked} metric uses found in runbook PromQL`);
  });
});
