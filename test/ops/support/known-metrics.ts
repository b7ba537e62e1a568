/**
 * Metric names the ops files may use: the tables of docs/metrics.md (what the gateway exports),
 * Triton's own series (nv_*, scraped as job "triton"), prom-client's process defaults, and
 * Prometheus's own `up` and `ALERTS`. A later contract test checks the same names against a real
 * scrape of the gateway and the simulator.
 */
import { baseMetricName } from '../../helpers/promql-metric-names.js';
import { readText } from './repo-files.js';

export interface MetricsReference {
  /** name → type (counter, gauge, histogram) from the tables. */
  documented: Map<string, string>;
}

export function readMetricsReference(): MetricsReference {
  const documented = new Map<string, string>();
  for (const line of readText('docs/metrics.md').split('\n')) {
    const m = /^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*([a-z]+)?/.exec(line);
    if (m) documented.set(m[1]!, m[2] ?? 'unknown');
  }
  return { documented };
}

/** Why a metric name is acceptable, or undefined when it is unknown. */
export function metricSource(name: string, ref: MetricsReference, recorded: ReadonlySet<string>): string | undefined {
  if (recorded.has(name)) return 'recording rule';
  if (ref.documented.has(name)) return 'docs/metrics.md';
  const base = baseMetricName(name);
  if (base !== name && ref.documented.get(base) === 'histogram') return 'docs/metrics.md (histogram series)';
  if (name.startsWith('nv_')) return 'Triton';
  if (/^(process|nodejs)_/.test(name)) return 'prom-client default metrics';
  if (name === 'up' || name === 'ALERTS') return 'Prometheus';
  return undefined;
}
