/**
 * Reads a Prometheus endpoint with a real text-format parser and looks up sample values.
 * parse-prometheus-text-format loses the labels of labelled histograms, so `_count`, `_sum`
 * and `_bucket` series are read from the exposition lines directly.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export interface Scrape {
  text: string;
  families: ParsedFamily[];
  /** Sum of the samples of `name` whose labels include `labels` (0 when none). */
  value(name: string, labels?: Record<string, string>): number;
  has(name: string): boolean;
}

function parseLabels(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of raw.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  return out;
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
      if (/_(count|sum|bucket)$/.test(name)) {
        let sum = 0;
        for (const line of text.split('\n')) {
          const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
          if (!m || m[1] !== name || !matches(parseLabels(m[2] ?? ''), labels)) continue;
          sum += Number(m[3]);
        }
        return sum;
      }
      const family = families.find((f) => f.name === name);
      if (!family) return 0;
      let sum = 0;
      for (const m of family.metrics) if (matches(m.labels ?? {}, labels)) sum += Number(m.value ?? 0);
      return sum;
    },
  };
}
