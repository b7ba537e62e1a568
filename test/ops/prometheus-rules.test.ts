/**
 * The Prometheus scrape config, recording rules and alert rules: promtool accepts them, its unit
 * tests show every alert firing on a breaking series and silent on a healthy one, and every alert
 * carries what on-call needs (severity, summary, a description with the value, a runbook link).
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, test } from 'node:test';
import { alertRules, ruleFiles, runbookUrlBase } from './support/alert-rules.js';
import { missingReason, runTool, which } from './support/external-tools.js';
import { exists, listFiles, readYaml } from './support/repo-files.js';

const promtool = which('promtool');
const skipPromtool = promtool ? false : missingReason('promtool', 'prometheus');
const unitTestFiles = listFiles('prometheus/tests', ['.yml', '.yaml']);

interface PromtoolTestFile {
  rule_files: string[];
  group_eval_order?: string[];
  tests: { name?: string; alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: unknown[] }[] }[];
}

describe('promtool', () => {
  test('accepts prometheus.yml and loads every rule file through it', { skip: skipPromtool }, async () => {
    const result = await runTool(promtool!, ['check', 'config', 'prometheus/prometheus.yml']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`SUCCESS: ${ruleFiles().length} rule files found`));
  });

  test('accepts every rule file', { skip: skipPromtool }, async () => {
    const result = await runTool(promtool!, ['check', 'rules', ...ruleFiles()]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
});

// One promtool process per file, run side by side: each file is a few hundred milliseconds.
describe('promtool test rules: each alert fires on a breaking series and stays silent on a healthy one', { concurrency: true }, () => {
  for (const file of unitTestFiles) {
    test(basename(file), { skip: skipPromtool }, async () => {
      const result = await runTool(promtool!, ['test', 'rules', file]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /SUCCESS/);
    });
  }
});

describe('alert rules', () => {
  const alerts = alertRules();

  test('cover the classic set, the serving SLOs, resilience and the availability burn rates', () => {
    const names = alerts.map((a) => a.name);
    for (const expected of [
      'HighErrorRate', 'HighLatency', 'GPUMemoryPressure', 'ServiceDown', 'QueueDepthGrowing', 'SlowInference',
      'LatencySLOBreached', 'QueueDelaySLOBreached', 'KVCacheReuseLow', 'SpeculativeAcceptanceLow', 'TokenBudgetOverrun', 'CostPerRequestHigh',
      'CircuitBreakerOpen', 'HighFallbackRate', 'StreamAbortsHigh', 'TritonDown', 'TritonMetricsStale',
      'AvailabilityBudgetBurnFast', 'AvailabilityBudgetBurnSlow',
    ]) {
      assert.ok(names.includes(expected), `missing alert ${expected}`);
    }
    assert.equal(new Set(names).size, names.length, 'alert names must be unique');
  });

  test('each has a severity, a summary, a description that shows the value and a runbook_url to an existing runbook', () => {
    for (const alert of alerts) {
      assert.match(alert.labels.severity ?? '', /^(critical|warning|info)$/, `${alert.name}: severity`);
      assert.ok((alert.annotations.summary ?? '').length > 10, `${alert.name}: summary`);
      assert.match(alert.annotations.description ?? '', /\{\{ *\$value\b/, `${alert.name}: description must show {{ $value }}`);
      const url = alert.annotations.runbook_url ?? '';
      assert.equal(url, `${runbookUrlBase}${alert.name}.md`, `${alert.name}: runbook_url`);
      assert.ok(exists(`runbooks/${basename(url)}`), `${alert.name}: runbooks/${alert.name}.md does not exist`);
    }
  });

  test('HighErrorRate is a ratio of 5xx to all API answers, not a raw rate', () => {
    const rec = readYaml<{ groups: { rules: { record?: string; expr: string }[] }[] }>('prometheus/rules/recording.yml')
      .groups.flatMap((g) => g.rules);
    const highErrorRate = alerts.find((a) => a.name === 'HighErrorRate')!;
    const ratioName = /^(\S+) > 0\.05$/.exec(highErrorRate.expr.trim())?.[1];
    assert.ok(ratioName, `unexpected HighErrorRate expression: ${highErrorRate.expr}`);
    const ratio = rec.find((r) => r.record === ratioName);
    assert.ok(ratio, `${ratioName} is not recorded`);
    assert.match(ratio.expr, /5xx:rate5m \/ job_instance:http_requests:rate5m/);
  });

  test('select only the scrape jobs prometheus.yml defines', () => {
    const config = readYaml<{ scrape_configs: { job_name: string }[] }>('prometheus/prometheus.yml');
    const jobs = new Set(config.scrape_configs.map((s) => s.job_name));
    const docs = ruleFiles().map((f) => readYaml<{ groups: { rules: { expr: string }[] }[] }>(f));
    for (const rule of docs.flatMap((d) => d.groups.flatMap((g) => g.rules))) {
      for (const m of String(rule.expr).matchAll(/job="([^"]+)"/g)) assert.ok(jobs.has(m[1]!), `job "${m[1]}" in ${rule.expr} is not scraped`);
    }
  });
});

describe('promtool unit tests', () => {
  const files = unitTestFiles.map((f) => ({ file: f, doc: readYaml<PromtoolTestFile>(f) }));

  test('load only rule files that exist', () => {
    for (const { file, doc } of files) {
      for (const ruleFile of doc.rule_files) {
        assert.ok(exists(`prometheus/tests/${ruleFile}`), `${file}: ${ruleFile} does not exist`);
      }
    }
  });

  // Unordered, promtool may evaluate an alert before the recording rule it reads, and at a
  // 10m interval the previous recorded sample is outside the 5m lookback: a flaky test.
  test('evaluate the recording groups before the alert groups', () => {
    for (const { file, doc } of files) {
      const order = doc.group_eval_order ?? [];
      const firstAlertGroup = order.findIndex((g) => !g.endsWith('recording'));
      assert.ok(order.includes('triton-gateway.recording'), `${file}: group_eval_order must list the recording groups`);
      assert.ok(order.slice(0, firstAlertGroup).every((g) => g.endsWith('recording')) && order.slice(firstAlertGroup).every((g) => !g.endsWith('recording')), `${file}: recording groups must come first`);
    }
  });

  test('have, for every alert, a case where it fires and a case where it stays silent', () => {
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const { doc } of files) {
      for (const t of doc.tests) {
        for (const check of t.alert_rule_test ?? []) {
          if ((check.exp_alerts ?? []).length > 0) fires.add(check.alertname);
          else silent.add(check.alertname);
        }
      }
    }
    for (const alert of alertRules()) {
      assert.ok(fires.has(alert.name), `${alert.name}: no promtool case where it fires`);
      assert.ok(silent.has(alert.name), `${alert.name}: no promtool case where it stays silent`);
    }
  });
});
