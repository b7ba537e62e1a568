/**
 * Game day: the shipped alerting, end to end, with real parts. The simulator and the gateway
 * serve traffic on loopback; a real Prometheus scrapes both with the shipped prometheus.yml and
 * rule files (time compressed 30×); a real Alertmanager routes with the shipped alertmanager.yml
 * to a local receiver standing in for the webhook, Slack and PagerDuty. A persistent upstream
 * failure must page HighErrorRate with its runbook link, and clearing it must resolve the page.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort } from '../helpers/free-port.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { alertRules, ruleDocuments, runbookUrlBase } from './support/alert-rules.js';
import { startChildService, type ChildService } from './support/child-service.js';
import { missingReason, which } from './support/external-tools.js';
import { gameDayAlertmanagerConfig, gameDayPrometheusConfig } from './support/game-day-configs.js';
import { activeAlerts, instantQuery, type PrometheusAlert } from './support/prometheus-api.js';
import { scaleDuration, shortenExpr, shortenRuleDocument, writeShortenedRules } from './support/shortened-rules.js';
import { driveTraffic } from './support/steady-traffic.js';
import { startWebhookReceiver, type ReceivedNotification, type WebhookReceiver } from './support/webhook-receiver.js';

const prometheusBin = which('prometheus');
const alertmanagerBin = which('prometheus-alertmanager') ?? which('alertmanager');
const skip = !prometheusBin
  ? missingReason('prometheus', 'prometheus')
  : !alertmanagerBin
    ? missingReason('alertmanager', 'prometheus-alertmanager')
    : false;

/** 30× faster than real time: HighErrorRate's 5m window and 5m `for:` become 10s each. */
const timeScale = { factor: 30, minRangeSeconds: 4 };
const alertName = 'HighErrorRate';
/** A public model without fallbacks: while its Triton model fails, every request is a 5xx. */
const model = 'qwen3';
const tritonModel = 'qwen3-vllm';
const phaseLimitMs = 40_000;

function log(line: string): void {
  process.stdout.write(`game-day: ${line}\n`);
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Polls (bounded) until `check` returns a value; the last error thrown is kept for the failure message. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, context: () => string): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < until) {
    const value = await check().catch((err: Error) => {
      lastError = err.message;
      return undefined;
    });
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}\n${context()}`);
}

function notificationsFor(receiver: WebhookReceiver, path: string, status: 'firing' | 'resolved'): ReceivedNotification[] {
  return receiver.received.filter((n) => n.path === path && n.body?.status === status && n.body?.groupLabels?.alertname === alertName);
}

describe('game day: a persistent upstream failure', () => {
  test('the overlay only compresses time: expressions, labels and annotations are the shipped ones', () => {
    assert.equal(
      shortenExpr('rate(x[5m]) / rate(y[1h] offset 1d) + max_over_time(z[2m:30s]) > 0.05', timeScale),
      'rate(x[10s]) / rate(y[120s] offset 2880s) + max_over_time(z[4s:1s]) > 0.05',
    );
    const timeless = (expr: string) => expr.replace(/\[[^\]]+\]/g, '[T]').replace(/offset\s+\w+/g, 'offset T');
    let compared = 0;
    for (const shipped of ruleDocuments()) {
      const overlay = shortenRuleDocument(shipped, timeScale);
      assert.deepEqual(overlay.groups.map((g) => g.name), shipped.groups.map((g) => g.name));
      shipped.groups.forEach((group, gi) => {
        group.rules.forEach((rule, ri) => {
          const short = overlay.groups[gi]!.rules[ri]!;
          assert.deepEqual({ ...short, expr: timeless(short.expr), for: undefined }, { ...rule, expr: timeless(rule.expr), for: undefined });
          if (rule.for) assert.equal(short.for, scaleDuration(rule.for, timeScale.factor, 1));
          compared += 1;
        });
      });
    }
    assert.ok(compared > 30, `only ${compared} rules compared`);
  });

  test(`pages ${alertName} through the shipped routing with its runbook, and resolves when the fault clears`, { skip, timeout: 90_000 }, async (t) => {
    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), 'game-day-'));
    const cleanups: Array<() => Promise<void> | void> = [];
    t.after(async () => {
      // Last started, first stopped: Prometheus stops sending before Alertmanager goes.
      for (const cleanup of cleanups.reverse()) await cleanup();
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    });

    const stack: Stack = await startStack({
      // A breaker that re-probes quickly, so recovery shows within the compressed windows.
      config: { resilience: { breaker: { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 1_000, rollingWindowMs: 5_000 } } },
    });
    cleanups.push(() => stack.close());
    const receiver = await startWebhookReceiver();
    cleanups.push(() => receiver.close());

    const amDir = join(dir, 'alertmanager');
    mkdirSync(join(amDir, 'data'), { recursive: true });
    writeFileSync(
      join(amDir, 'alertmanager.yml'),
      gameDayAlertmanagerConfig({ receiverBase: receiver.url, secretsDir: amDir, groupWait: '1s', groupInterval: '2s' }),
    );
    const alertmanager: ChildService = await startChildService('alertmanager', alertmanagerBin!, [
      `--config.file=${join(amDir, 'alertmanager.yml')}`,
      `--storage.path=${join(amDir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--cluster.listen-address=',
    ], { listenPattern: /msg="Listening on" address=(127\.0\.0\.1:\d+)/, readyPath: '/-/ready' });
    cleanups.push(() => alertmanager.stop());

    const promDir = join(dir, 'prometheus');
    writeShortenedRules(join(promDir, 'rules'), timeScale);
    const promPort = await freePort();
    const hostPort = (url: string) => new URL(url).host;
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      gameDayPrometheusConfig({
        gateway: hostPort(stack.url),
        triton: hostPort(stack.sim.metricsUrl),
        prometheus: `127.0.0.1:${promPort}`,
        alertmanager: hostPort(alertmanager.url),
        tritonTargetName: stack.config.triton.targets[0]!.name,
        interval: '1s',
      }),
    );
    const prometheus: ChildService = await startChildService('prometheus', prometheusBin!, [
      `--config.file=${join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ], { url: `http://127.0.0.1:${promPort}`, readyPath: '/-/ready' });
    cleanups.push(() => prometheus.stop());
    const context = () =>
      `prometheus log tail:\n${prometheus.log().slice(-2000)}\nalertmanager log tail:\n${alertmanager.log().slice(-2000)}\n` +
      `received: ${JSON.stringify(receiver.received.map((n) => [n.path, n.body?.status, n.body?.groupLabels]))}`;
    log(`stack, Alertmanager and Prometheus up after ${seconds(started)}`);

    const traffic = driveTraffic(stack.url, { model, prompt: 'game day', max_tokens: 4 }, { intervalMs: 50, maxMs: 85_000 });
    cleanups.push(() => traffic.stop());

    // Healthy baseline: both targets scraped, the rules evaluated, and no page.
    await waitFor('both targets scraped and the recording rules evaluated', 15_000, async () => {
      const up = await instantQuery(prometheus.url, 'up{job=~"triton-gateway|triton"} == 1');
      // The 5xx ratio has no series while nothing fails; its denominator shows the rules see traffic.
      const requests = await instantQuery(prometheus.url, 'job_instance:http_requests:rate5m > 0');
      return up.length === 2 && requests.length > 0 ? true : undefined;
    }, context);
    assert.equal((await activeAlerts(prometheus.url)).some((a) => a.labels.alertname === alertName), false, `${alertName} active on healthy traffic`);
    log(`healthy baseline scraped after ${seconds(started)}; injecting UNAVAILABLE on ${tritonModel}`);

    // --- the fault ---
    const faultAt = Date.now();
    stack.sim.setFault(tritonModel, { kind: 'error', code: 'UNAVAILABLE', message: 'game day: upstream down' });
    const firing = await waitFor(`${alertName} firing in Prometheus`, phaseLimitMs, async () => {
      const alerts = await activeAlerts(prometheus.url);
      return alerts.find((a: PrometheusAlert) => a.labels.alertname === alertName && a.state === 'firing');
    }, context);
    log(`${alertName} firing in Prometheus after ${seconds(faultAt)} (value ${Number(firing.value).toFixed(3)})`);
    // Requests sent after the fault; one in flight when it was injected may still have succeeded.
    const faulted = traffic.sentSince(faultAt);
    assert.ok(faulted.length > 0 && faulted.every((s) => s >= 500), `every request during the fault is a 5xx: ${[...new Set(faulted)].join(',')}`);

    const shipped = alertRules().find((a) => a.name === alertName)!;
    assert.equal(firing.labels.severity, shipped.labels.severity);
    assert.equal(firing.labels.job, 'triton-gateway');
    assert.equal(firing.annotations.runbook_url, `${runbookUrlBase}${alertName}.md`);

    const webhook = await waitFor('the default webhook to receive the page', phaseLimitMs, async () => notificationsFor(receiver, '/webhook/default-webhook', 'firing')[0], context);
    log(`default webhook notified after ${seconds(faultAt)}`);
    const notified = webhook.body.alerts.find((a: { labels: Record<string, string> }) => a.labels.alertname === alertName);
    assert.equal(notified.status, 'firing');
    assert.equal(notified.annotations.runbook_url, shipped.annotations.runbook_url);
    assert.equal(notified.labels.instance, firing.labels.instance);
    assert.match(notified.annotations.description, /of API requests on .* were answered with a 5xx/);

    // The shipped routing sends a critical alert on to PagerDuty and Slack as well, each with the runbook.
    const paged = await waitFor('PagerDuty to be paged', 10_000, async () =>
      receiver.received.find((n) => n.path === '/pagerduty' && n.body?.event_action === 'trigger' && String(n.body?.payload?.summary).includes(alertName)), context);
    assert.ok(paged.body.links.some((l: { href: string }) => l.href === shipped.annotations.runbook_url), JSON.stringify(paged.body.links));
    const slack = await waitFor('Slack to be notified', 10_000, async () =>
      receiver.received.find((n) => n.path === '/slack' && JSON.stringify(n.body).includes(`FIRING`) && JSON.stringify(n.body).includes(alertName)), context);
    assert.ok(JSON.stringify(slack.body).includes(shipped.annotations.runbook_url!), 'Slack message links the runbook');
    log(`PagerDuty and Slack notified after ${seconds(faultAt)}; clearing the fault`);

    // --- recovery ---
    const clearedAt = Date.now();
    stack.sim.clearFaults();
    await waitFor(`${alertName} to resolve in Prometheus`, phaseLimitMs, async () => {
      const alerts = await activeAlerts(prometheus.url);
      return alerts.some((a) => a.labels.alertname === alertName) ? undefined : true;
    }, context);
    log(`${alertName} resolved in Prometheus after ${seconds(clearedAt)}`);
    const resolved = await waitFor('the default webhook to receive the resolution', phaseLimitMs, async () =>
      notificationsFor(receiver, '/webhook/default-webhook', 'resolved')[0], context);
    log(`default webhook received the resolution after ${seconds(clearedAt)}`);
    assert.equal(resolved.body.alerts.find((a: { labels: Record<string, string> }) => a.labels.alertname === alertName).status, 'resolved');
    assert.ok(traffic.sentSince(clearedAt).at(-1) === 200, 'traffic is healthy again');

    await traffic.stop();
    log(`${traffic.statuses.length} requests driven; whole game day ${seconds(started)}`);
  });
});
