/**
 * Reads a Prometheus endpoint with a real text-format parser and looks up sample values.
 * parse-prometheus-text-format loses the labels of labelled histograms, so `_count`, `_sum`
 * and `_bucket` series are read from the exposition lines directly.
 *
 * A lookup that cannot match is an error, not 0: a metric the endpoint does not declare, or a
 * label name none of its series carries, would otherwise make every `=== 0` check pass after a
 * rename. A declared metric with no series yet (a labelled counter nothing has incremented) is 0.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export interface Scrape {
  text: string;
  families: ParsedFamily[];
  /**
   * Sum of the samples of `name` whose labels include `labels` (0 when none match). Throws when
   * the endpoint does not declare `name` or its series carry none of a label name asked for.
   */
  value(name: string, labels?: Record<string, string>): number;
  has(name: string): boolean;
}

function parseLabels(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of raw.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  return out;
}

/** Throws unless some series carries every label name in `want` (when there are series at all). */
function checkLabelNames(name: string, series: Array<Record<string, string>>, want: Record<string, string>): void {
  if (series.length === 0) return;
  const seen = new Set(series.flatMap((labels) => Object.keys(labels)));
  const unknown = Object.keys(want).filter((key) => !seen.has(key));
  if (unknown.length > 0) throw new Error(`${name} has no label ${unknown.join(', ')} (its series carry: ${[...seen].join(', ') || 'none'})`);
}

export async function scrape(url: string): Promise<Scrape> {
  const text = await (await fetch(url)).text();
  const families = parsePrometheusTextFormat(text);
  const matches = (l: Record<string, string>, want: Record<string, string>): boolean => Object.entries(want).every(([k, v]) => l[k] === v);
  return {
    text,
    families,
    has: (name) => families.some((f) => f.name === name),
    value(name, labels = {}) {
      const histogramPart = /^(.*)_(count|sum|bucket)$/.exec(name);
      if (histogramPart && new RegExp(`^# TYPE ${histogramPart[1]} histogram$`, 'm').test(text)) {
        const series: Array<{ labels: Record<string, string>; value: number }> = [];
        for (const line of text.split('\n')) {
          const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
          if (m && m[1] === name) series.push({ labels: parseLabels(m[2] ?? ''), value: Number(m[3]) });
        }
        checkLabelNames(name, series.map((s) => s.labels), labels);
        return series.filter((s) => matches(s.labels, labels)).reduce((sum, s) => sum + s.value, 0);
      }
      const family = families.find((f) => f.name === name);
      if (!family) throw new Error(`${url} declares no metric ${name}`);
      checkLabelNames(name, family.metrics.map((m) => m.labels ?? {}), labels);
      let sum = 0;
      for (const m of family.metrics) if (matches(m.labels ?? {}, labels)) sum += Number(m.value ?? 0);
      return sum;
    },
  };
}
