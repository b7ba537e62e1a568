/**
 * Test copies of the shipped prometheus/prometheus.yml and alertmanager/alertmanager.yml for the
 * game day: the same jobs, labels, rule-file layout, route tree, grouping and inhibition, with
 * only addresses, secrets and timings rewritten. A job or receiver kind the rewrite does not know
 * fails loudly, so a change to the shipped files is noticed here rather than silently untested.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readYaml, repoPath } from './repo-files.js';

export interface PrometheusAddresses {
  /** `host:port` of each scrape target and of Alertmanager. */
  gateway: string;
  triton: string;
  prometheus: string;
  alertmanager: string;
  /** The gateway config's name of the Triton target (triton.targets[].name). */
  tritonTargetName: string;
  /** Scrape and evaluation interval, e.g. `1s`. */
  interval: string;
}

interface StaticConfig {
  targets: string[];
  labels?: Record<string, string>;
}

interface PrometheusConfig {
  global?: Record<string, unknown>;
  rule_files?: string[];
  alerting?: { alertmanagers: { static_configs: StaticConfig[] }[] };
  scrape_configs: { job_name: string; static_configs: StaticConfig[]; [k: string]: unknown }[];
}

/** prometheus.yml with loopback targets and short intervals; `rule_files` stays as shipped. */
export function gameDayPrometheusConfig(a: PrometheusAddresses): string {
  const config = readYaml<PrometheusConfig>('prometheus/prometheus.yml');
  config.global = { ...config.global, scrape_interval: a.interval, evaluation_interval: a.interval };
  for (const am of config.alerting?.alertmanagers ?? []) am.static_configs = [{ targets: [a.alertmanager] }];
  const targetFor: Record<string, string> = { 'triton-gateway': a.gateway, triton: a.triton, prometheus: a.prometheus };
  for (const job of config.scrape_configs) {
    const target = targetFor[job.job_name];
    if (!target) throw new Error(`prometheus.yml has a job the game day does not know: ${job.job_name}`);
    job.static_configs = job.static_configs.map((sc) => ({
      ...sc,
      targets: [target],
      // The target label names the Triton as the gateway config does; the stack names it differently.
      ...(sc.labels?.target ? { labels: { ...sc.labels, target: a.tritonTargetName } } : {}),
    }));
  }
  return stringify(config);
}

interface Route {
  receiver?: string;
  group_wait?: string;
  group_interval?: string;
  routes?: Route[];
  [k: string]: unknown;
}

interface Receiver {
  name: string;
  webhook_configs?: { url: string; [k: string]: unknown }[];
  slack_configs?: Record<string, unknown>[];
  pagerduty_configs?: Record<string, unknown>[];
  [k: string]: unknown;
}

interface AlertmanagerConfig {
  global?: Record<string, unknown>;
  templates?: string[];
  route: Route;
  receivers: Receiver[];
  [k: string]: unknown;
}

export interface AlertmanagerRewrite {
  /** Base URL of the local receiver: `<base>/webhook/<receiver>`, `<base>/slack`, `<base>/pagerduty`. */
  receiverBase: string;
  /** Where the secret files are written. */
  secretsDir: string;
  groupWait: string;
  groupInterval: string;
}

const KNOWN_RECEIVER_KEYS = new Set(['name', 'webhook_configs', 'slack_configs', 'pagerduty_configs']);

/**
 * alertmanager.yml with every receiver aimed at the local receiver: webhooks by URL, Slack and
 * PagerDuty through their own configs (the Slack URL and routing key still come from files, as
 * shipped). Writes the secret files; returns the config text.
 */
export function gameDayAlertmanagerConfig(r: AlertmanagerRewrite): string {
  const config = readYaml<AlertmanagerConfig>('alertmanager/alertmanager.yml');
  const slackUrlFile = join(r.secretsDir, 'slack-api-url');
  const routingKeyFile = join(r.secretsDir, 'pagerduty-routing-key');
  writeFileSync(slackUrlFile, `${r.receiverBase}/slack`);
  writeFileSync(routingKeyFile, 'game-day-routing-key-0000000000000');
  if (config.global?.slack_api_url_file) config.global.slack_api_url_file = slackUrlFile;
  // The templates glob is relative to the config file; the copy lives elsewhere.
  config.templates = (config.templates ?? []).map((glob) => repoPath('alertmanager', glob));
  for (const receiver of config.receivers) {
    const unknown = Object.keys(receiver).filter((k) => !KNOWN_RECEIVER_KEYS.has(k));
    if (unknown.length > 0) throw new Error(`receiver ${receiver.name}: the game day cannot redirect ${unknown.join(', ')}`);
    for (const webhook of receiver.webhook_configs ?? []) webhook.url = `${r.receiverBase}/webhook/${receiver.name}`;
    for (const slack of receiver.slack_configs ?? []) if (slack.api_url_file) slack.api_url_file = slackUrlFile;
    for (const pd of receiver.pagerduty_configs ?? []) {
      pd.routing_key_file = routingKeyFile;
      pd.url = `${r.receiverBase}/pagerduty`;
    }
  }
  const shorten = (route: Route) => {
    if (route.group_wait) route.group_wait = r.groupWait;
    if (route.group_interval) route.group_interval = r.groupInterval;
    route.routes?.forEach(shorten);
  };
  shorten(config.route);
  config.route.group_wait = r.groupWait;
  config.route.group_interval = r.groupInterval;
  return stringify(config);
}
