/**
 * The metric names a real scrape exports, as PromQL sees them: a family's own name, plus the
 * `_bucket`, `_sum` and `_count` series of histograms (`_sum`, `_count` of summaries). A family
 * that prom-client declares but has not observed yet (a labelled counter before its first
 * increment) is still exported: its HELP and TYPE lines are in the scrape.
 */
import type { Scrape } from '../../helpers/scrape.js';

export interface ExportedMetrics {
  /** Series name → the family that exports it. */
  series: Map<string, { family: string; type: string; samples: number }>;
}

export function exportedMetrics(scrape: Scrape): ExportedMetrics {
  const series = new Map<string, { family: string; type: string; samples: number }>();
  for (const f of scrape.families) {
    const info = { family: f.name, type: f.type, samples: f.metrics.length };
    series.set(f.name, info);
    if (f.type === 'HISTOGRAM') for (const suffix of ['_bucket', '_sum', '_count']) series.set(f.name + suffix, info);
    if (f.type === 'SUMMARY') for (const suffix of ['_sum', '_count']) series.set(f.name + suffix, info);
  }
  return { series };
}

/**
 * Series Prometheus makes itself: `up` and the scrape_* series of every target, and the ALERTS
 * series of its rule manager. Nothing scrapes these from the gateway or Triton.
 */
export const prometheusSynthetic = new Set([
  'up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added',
  'ALERTS', 'ALERTS_FOR_STATE',
]);
