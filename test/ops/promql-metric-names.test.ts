/** The metric-name extraction the ops and contract tests rely on (test/helpers/promql-metric-names.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { baseMetricName, dashboardExpressions, extractMetricNames, metricNamesInRules } from '../helpers/promql-metric-names.js';

describe('extractMetricNames', () => {
  test('finds the metrics and skips functions, aggregations, grouping labels and matchers', () => {
    assert.deepEqual(
      extractMetricNames('sum by (job, instance) (rate(http_requests_total{job="triton-gateway", status=~"5.."}[5m])) / on (job) group_left job:ratio:rate5m'),
      ['http_requests_total', 'job:ratio:rate5m'],
    );
  });

  test('skips durations, numbers, keywords and Grafana variables', () => {
    assert.deepEqual(extractMetricNames('histogram_quantile(0.95, sum(rate(x_bucket{m=~"$model"}[$__rate_interval])) by (le)) > 1e-3 offset 5m'), ['x_bucket']);
    assert.deepEqual(extractMetricNames('up == 0 or absent(up{job="a"}) and bool Inf > NaN'), ['up']);
  });

  test('skips string arguments and reads __name__ matchers', () => {
    assert.deepEqual(extractMetricNames('label_replace(a_total, "dst", "$1", "src", "(.*)") + {__name__="b_total"}'), ['b_total', 'a_total']);
  });

  test('maps histogram series to their histogram', () => {
    assert.equal(baseMetricName('request_duration_seconds_bucket'), 'request_duration_seconds');
    assert.equal(baseMetricName('tokens_generated_total'), 'tokens_generated_total');
  });
});

describe('rules and dashboards', () => {
  test('names used by rules leave out recorded series and say who uses them', () => {
    const used = metricNamesInRules([
      { groups: [{ rules: [{ record: 'job:r:rate5m', expr: 'sum(rate(a_total[5m]))' }, { alert: 'A', expr: 'job:r:rate5m > 1 and b > 0' }] }] },
    ]);
    assert.deepEqual([...used.entries()], [['a_total', ['job:r:rate5m']], ['b', ['A']]]);
  });

  test('dashboard expressions include nested panels, annotations and label_values variables', () => {
    const exprs = dashboardExpressions({
      panels: [{ targets: [{ expr: 'a' }] }, { type: 'row', panels: [{ targets: [{ expr: 'b' }] }] }],
      annotations: { list: [{ expr: 'ALERTS' }] },
      templating: { list: [
        { type: 'query', query: { query: 'label_values(c{job="x"}, model_name)' } },
        { type: 'query', query: 'label_values(job)' },
        { type: 'datasource', query: 'prometheus' },
      ] },
    });
    assert.deepEqual(exprs.sort(), ['ALERTS', 'a', 'b', 'c{job="x"}']);
  });
});
