/**
 * Reads a Prometheus endpoint with a real text-format parser and looks up sample values.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export interface Scrape {
  text: string;
  families: ParsedFamily[];
  /** Sum of the samples of `name` whose labels include `labels` (0 when none). */
  value(name: string, labels?: Record<string, string>): number;
  has(name: string): boolean;
}

export async function scrape(url: string): Promise<Scrape> {
  const text = await (await fetch(url)).text();
  const families = parsePrometheusTextFormat(text);
  return {
    text,
    families,
    has: (name) => families.some((f) => f.name === name),
    value(name, labels = {}) {
      const family = families.find((f) => f.name === name);
      if (!family) return 0;
      let sum = 0;
      for (const m of family.metrics) {
        const l = m.labels ?? {};
        if (!Object.entries(labels).every(([k, v]) => l[k] === v)) continue;
        sum += Number(m.value ?? m.count ?? 0);
      }
      return sum;
    },
  };
}
