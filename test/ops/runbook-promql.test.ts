/**
 * The runbooks' PromQL, run through promtool: every query parses, and a query that takes
 * increase() of a counter whose series are born on their first event (at 1, not pre-created at
 * 0) still counts that first event. Plain increase() reads such a series as 0 until its second
 * event: a breaker that tripped once showed no `open` transition, a lone model_not_ready no error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { LabelledCounter } from '../../src/telemetry/labelled-series.js';
import { createMetrics, initModelSeries } from '../../src/telemetry/metrics.js';
import { missingReason, runTool, which } from './support/external-tools.js';
import { listFiles, readText } from './support/repo-files.js';

const promtool = which('promtool');
const skip = promtool ? false : missingReason('promtool', 'prometheus');
const dir = mkdtempSync(join(tmpdir(), 'runbook-promql-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const queries = listFiles('runbooks', ['.md']).flatMap((file) =>
  [...readText(file).matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => ({ file, expr: m[1]!.trim() })),
);

/** The gateway's counters whose series appear only with their first event, with their label names. */
async function eventBornCounters(): Promise<Map<string, string[]>> {
  const metrics = createMetrics({ defaultMetrics: false });
  initModelSeries(metrics, 'm');
  const out = new Map<string, string[]>();
  for (const metric of Object.values(metrics)) {
    if (!(metric instanceof LabelledCounter)) continue;
    const data = await metric.get();
    if (data.values.length > 0) continue;
    out.set(data.name, [...metric.labelNames]);
  }
  return out;
}

describe('PromQL in runbooks', () => {
  test('every query parses', { skip }, async () => {
    assert.ok(queries.length > 50, `only ${queries.length} PromQL blocks found`);
    const rules = join(dir, 'all.rules.yml');
    writeFileSync(rules, stringify({ groups: [{ name: 'runbooks', rules: queries.map((q, i) => ({ record: `runbook:query_${i}`, expr: q.expr })) }] }));
    const result = await runTool(promtool!, ['check', 'rules', rules]);
    const failed = result.code === 0 ? '' : queries.map((q, i) => `runbook:query_${i} = ${q.file}: ${q.expr}`).join('\n');
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}\n${failed}`);
  });

  test("increase() of a counter born on its first event still counts that event", { skip }, async () => {
    const counters = await eventBornCounters();
    assert.ok(counters.has('upstream_errors_total') && counters.has('fallbacks_total'), [...counters.keys()].join(', '));
    assert.ok(!counters.has('token_budget_overruns_total'), 'budget overruns are created at 0 per model');
    const cases = queries.flatMap(({ file, expr }) => {
      const used = [...counters.keys()].filter((name) => new RegExp(`increase\\(${name}\\b`).test(expr));
      return used.length === 0 ? [] : [{ file, expr, used }];
    });
    assert.ok(cases.length >= 6, `only ${cases.length} runbook queries take increase() of such a counter`);

    // Each counter's one series appears at 1 ten minutes before the evaluation: inside every
    // window the runbooks use (15m, 1d), and with nothing before it.
    const tests = cases.map(({ file, expr, used }) => ({
      name: `${file}: ${expr}`,
      interval: '1m',
      input_series: used.map((name) => ({
        series: `${name}{${['job="triton-gateway"', 'instance="gw-a:8080"', ...counters.get(name)!.map((l) => `${l}="x"`)].join(',')}}`,
        values: '_x50 1x20',
      })),
      promql_expr_test: [{ expr: `clamp_max(count((${expr}) >= 1), 1)`, eval_time: '60m', exp_samples: [{ labels: '{}', value: 1 }] }],
    }));
    writeFileSync(join(dir, 'empty.rules.yml'), stringify({ groups: [] }));
    const file = join(dir, 'first-event.test.yml');
    writeFileSync(file, stringify({ rule_files: ['empty.rules.yml'], evaluation_interval: '1m', tests }));
    const result = await runTool(promtool!, ['test', 'rules', file]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
});
