/**
 * Alertmanager routing: amtool accepts the config, each severity reaches the receivers it should
 * (critical → PagerDuty and Slack and the webhook; the rest → Slack and the webhook), secrets are
 * read from files, the templates render the runbook link, and inhibition works in a real
 * Alertmanager: ServiceDown and TritonDown silence the symptoms they explain and nothing else.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alertRules } from './support/alert-rules.js';
import { missingReason, runTool, which } from './support/external-tools.js';
import { readText, readYaml, repoPath } from './support/repo-files.js';

const amtool = which('amtool');
const alertmanagerBin = which('prometheus-alertmanager') ?? which('alertmanager');
const skipAmtool = amtool ? false : missingReason('amtool', 'prometheus-alertmanager');
const skipAlertmanager = alertmanagerBin ? false : missingReason('alertmanager', 'prometheus-alertmanager');
const configPath = 'alertmanager/alertmanager.yml';

interface AmConfig {
  global?: Record<string, unknown>;
  route: { receiver: string };
  receivers: { name: string; slack_configs?: Record<string, unknown>[]; pagerduty_configs?: Record<string, unknown>[]; webhook_configs?: Record<string, unknown>[] }[];
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
}

const expectedReceivers: Record<string, string> = {
  critical: 'pagerduty,slack,default-webhook',
  warning: 'slack,default-webhook',
  info: 'slack,default-webhook',
};

async function routesTest(labels: string[], expected: string) {
  // amtool prints the receivers it resolved and exits 1 when --verify.receivers differs.
  const result = await runTool(amtool!, ['config', 'routes', 'test', `--config.file=${configPath}`, `--verify.receivers=${expected}`, ...labels]);
  assert.equal(result.code, 0, `${labels.join(' ')}: expected ${expected}, amtool said: ${result.stdout}${result.stderr}`);
  assert.equal(result.stdout.trim(), expected);
}

describe('amtool', () => {
  test('accepts the config and loads the notification templates', { skip: skipAmtool }, async () => {
    const result = await runTool(amtool!, ['check-config', configPath]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS/);
    assert.match(result.stdout, /- [1-9]\d* templates/);
  });

  for (const [severity, receivers] of Object.entries(expectedReceivers)) {
    test(`routes severity=${severity} to ${receivers}`, { skip: skipAmtool }, async () => {
      await routesTest([`severity=${severity}`, 'alertname=AnyAlert', 'job=triton-gateway'], receivers);
    });
  }

  test('routes an alert without a severity to Slack and the webhook', { skip: skipAmtool }, async () => {
    await routesTest(['alertname=Unlabelled'], 'slack,default-webhook');
  });

  test('routes every shipped alert by its severity', { skip: skipAmtool }, async () => {
    await Promise.all(
      alertRules().map((a) => routesTest([`alertname=${a.name}`, `severity=${a.labels.severity}`, 'job=triton-gateway'], expectedReceivers[a.labels.severity!]!)),
    );
  });

  test('renders notifications with the summary, the measured value and the runbook link', { skip: skipAmtool }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'am-template-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const alert = {
      status: 'firing',
      labels: { alertname: 'HighErrorRate', severity: 'critical', job: 'triton-gateway', instance: 'gw-a:8080' },
      annotations: {
        summary: 'Gateway gw-a:8080 answers more than 5% of API requests with 5xx',
        description: '12.5% of API requests on gw-a:8080 were answered with a 5xx over the last 5m (threshold 5%).',
        runbook_url: 'https://github.com/triton-gateway/triton-gateway/blob/main/runbooks/HighErrorRate.md',
      },
      startsAt: '2025-01-01T00:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus/graph',
      fingerprint: '0123456789abcdef',
    };
    const data = {
      receiver: 'slack', status: 'firing', alerts: [alert], groupLabels: { alertname: 'HighErrorRate', job: 'triton-gateway' },
      commonLabels: alert.labels, commonAnnotations: alert.annotations, externalURL: 'http://alertmanager', version: '4', groupKey: '{}',
    };
    const dataFile = join(dir, 'data.json');
    writeFileSync(dataFile, JSON.stringify(data));
    const render = (text: string) =>
      runTool(amtool!, ['template', 'render', '--template.glob=alertmanager/templates/*.tmpl', `--template.data=${dataFile}`, `--template.text=${text}`]);
    const title = await render('{{ template "tg.title" . }}');
    assert.equal(title.code, 0, title.stderr);
    assert.match(title.stdout, /^\[FIRING:1\] HighErrorRate \(critical\)/);
    const text = await render('{{ template "tg.slack.text" . }}');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /12\.5% of API requests/);
    assert.match(text.stdout, /Runbook: https:\/\/github\.com\/triton-gateway\/triton-gateway\/blob\/main\/runbooks\/HighErrorRate\.md/);
    const severity = await render('{{ template "tg.pagerduty.severity" . }}');
    assert.equal(severity.stdout.trim(), 'critical');
  });
});

describe('alertmanager.yml', () => {
  const config = readYaml<AmConfig>(configPath);

  test('reads the Slack URL and the PagerDuty routing key from files, and holds no secret', () => {
    const text = readText(configPath);
    assert.doesNotMatch(text, /hooks\.slack\.com|events\.pagerduty\.com\/.*key|service_key:|routing_key:|api_url:|slack_api_url:/);
    const slack = config.receivers.find((r) => r.name === 'slack')!.slack_configs!;
    assert.ok(slack.every((c) => c.api_url_file !== undefined || config.global?.slack_api_url_file !== undefined), 'Slack URL must come from a file');
    const pagerduty = config.receivers.find((r) => r.name === 'pagerduty')!.pagerduty_configs!;
    assert.ok(pagerduty.length > 0 && pagerduty.every((c) => typeof c.routing_key_file === 'string'));
    assert.equal(config.route.receiver, 'default-webhook');
  });

  test('inhibits only alerts that exist', () => {
    const names = new Set(alertRules().map((a) => a.name));
    for (const rule of config.inhibit_rules) {
      for (const matcher of [...rule.source_matchers, ...rule.target_matchers]) {
        const m = /^alertname(=~|=)"(.*)"$/.exec(matcher);
        assert.ok(m, `unexpected matcher ${matcher}`);
        for (const name of m[2]!.split('|')) assert.ok(names.has(name), `inhibit rule names unknown alert ${name}`);
      }
    }
  });
});

describe('inhibition in a real Alertmanager', () => {
  let url = '';
  let dataDir = '';
  let child: ReturnType<typeof spawn> | undefined;

  before(async () => {
    if (!alertmanagerBin) return;
    dataDir = mkdtempSync(join(tmpdir(), 'am-inhibit-'));
    child = spawn(alertmanagerBin, [
      `--config.file=${repoPath(configPath)}`,
      `--storage.path=${dataDir}`,
      '--web.listen-address=127.0.0.1:0',
      '--cluster.listen-address=',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`alertmanager did not start:\n${log}`)), 10_000);
      child!.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        const m = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(`http://${m[1]}`);
        }
      });
      child!.on('exit', (code) => reject(new Error(`alertmanager exited with ${code}:\n${log}`)));
    });
  });

  after(async () => {
    // Alertmanager writes its snapshots on shutdown: wait for it before removing its directory.
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
  });

  test('ServiceDown and TritonDown silence the symptoms of the same instance, target or job, and nothing else', { skip: skipAlertmanager }, async () => {
    // Two gateways (scrape jobs in two clusters): on A an instance is down, on B its Triton.
    const a = { job: 'gateway-a' };
    const b = { job: 'gateway-b' };
    const alerts = [
      { alertname: 'ServiceDown', severity: 'critical', ...a, instance: 'gw-a1:8080' },
      { alertname: 'HighLatency', severity: 'warning', ...a, instance: 'gw-a1:8080' },
      { alertname: 'HighLatency', severity: 'warning', ...a, instance: 'gw-a2:8080' },
      { alertname: 'TritonDown', severity: 'critical', ...b, target: 'triton' },
      { alertname: 'CircuitBreakerOpen', severity: 'warning', ...b, target: 'triton', model: 'qwen3-32b' },
      { alertname: 'CircuitBreakerOpen', severity: 'warning', ...b, target: 'triton-b', model: 'qwen3-8b' },
      { alertname: 'TritonMetricsStale', severity: 'warning', job: 'triton', instance: 'triton:8002', target: 'triton' },
      { alertname: 'HighErrorRate', severity: 'critical', ...b, instance: 'gw-b1:8080' },
      { alertname: 'HighErrorRate', severity: 'critical', ...a, instance: 'gw-a2:8080' },
      { alertname: 'AvailabilityBudgetBurnFast', severity: 'critical', slo: 'availability', ...a },
      { alertname: 'AvailabilityBudgetBurnSlow', severity: 'warning', slo: 'availability', ...a },
      { alertname: 'GPUMemoryPressure', severity: 'warning', gpu_id: 'GPU-1' },
    ];
    const posted = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts.map((labels) => ({ labels, annotations: { summary: 'test' } }))),
    });
    assert.equal(posted.status, 200);
    const listed = (await (await fetch(`${url}/api/v2/alerts`)).json()) as { labels: Record<string, string>; status: { inhibitedBy: string[] } }[];
    const inhibited = (labels: Record<string, string>) => {
      const found = listed.find((a) => Object.entries(labels).every(([k, v]) => a.labels[k] === v));
      assert.ok(found, `alert ${JSON.stringify(labels)} not listed`);
      return found.status.inhibitedBy.length > 0;
    };
    assert.equal(inhibited({ alertname: 'ServiceDown' }), false);
    assert.equal(inhibited({ alertname: 'TritonDown' }), false);
    assert.equal(inhibited({ alertname: 'HighLatency', instance: 'gw-a1:8080' }), true, 'symptom of the down instance');
    assert.equal(inhibited({ alertname: 'HighLatency', instance: 'gw-a2:8080' }), false, 'another instance of the same gateway');
    assert.equal(inhibited({ alertname: 'HighErrorRate', instance: 'gw-a2:8080' }), false, 'another instance of the same gateway');
    assert.equal(inhibited({ alertname: 'CircuitBreakerOpen', target: 'triton' }), true, 'breaker of the down target');
    assert.equal(inhibited({ alertname: 'CircuitBreakerOpen', target: 'triton-b' }), false, 'breaker of another target');
    assert.equal(inhibited({ alertname: 'TritonMetricsStale', target: 'triton' }), true, 'metrics of the down target');
    assert.equal(inhibited({ alertname: 'HighErrorRate', instance: 'gw-b1:8080' }), true, 'symptom of the gateway whose Triton is down');
    assert.equal(inhibited({ alertname: 'AvailabilityBudgetBurnSlow' }), true, 'the ticket while the page fires');
    assert.equal(inhibited({ alertname: 'AvailabilityBudgetBurnFast' }), false, 'the page of a gateway whose Triton is up');
    assert.equal(inhibited({ alertname: 'GPUMemoryPressure' }), false, 'not a symptom of either');
  });
});
