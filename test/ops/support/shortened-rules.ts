/**
 * The shipped rule files with time compressed, for the game-day test: every range selector,
 * subquery, `offset` and `for:` is divided by the same factor, and nothing else changes — names,
 * expressions' structure, thresholds, labels and annotations stay the shipped ones. Generated at
 * test time from prometheus/rules, so there is no overlay copy to drift.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { ruleFiles } from './alert-rules.js';
import { readYaml } from './repo-files.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;

/** Milliseconds of a Prometheus duration such as `5m` or `1h30m`. */
export function durationMs(text: string): number {
  if (!DURATION.test(text)) throw new Error(`not a Prometheus duration: ${text}`);
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** The duration divided by `factor`, in whole seconds, never below `minSeconds`. */
export function scaleDuration(text: string, factor: number, minSeconds: number): string {
  return `${Math.max(minSeconds, Math.ceil(durationMs(text) / factor / 1_000))}s`;
}

export interface ShortenOptions {
  /** How many times faster than real time (30: a 5m window becomes 10s). */
  factor: number;
  /** Shortest range selector: rate() needs two samples, so a few scrape intervals. */
  minRangeSeconds: number;
}

/** Every range `[d]`, subquery `[d:s]` and `offset d` of a PromQL expression, scaled. */
export function shortenExpr(expr: string, o: ShortenOptions): string {
  return expr
    .replace(/\[(\w+)(?::(\w*))?\]/g, (_all, range: string, step: string | undefined) => {
      const scaled = scaleDuration(range, o.factor, o.minRangeSeconds);
      if (step === undefined) return `[${scaled}]`;
      return step ? `[${scaled}:${scaleDuration(step, o.factor, 1)}]` : `[${scaled}:]`;
    })
    .replace(/\boffset\s+(\w+)/g, (_all, d: string) => `offset ${scaleDuration(d, o.factor, 1)}`);
}

interface RuleDoc {
  groups: { name: string; interval?: string; rules: { alert?: string; record?: string; expr: string; for?: string; [k: string]: unknown }[] }[];
}

export function shortenRuleDocument(doc: RuleDoc, o: ShortenOptions): RuleDoc {
  return {
    ...doc,
    groups: doc.groups.map((g) => ({
      ...g,
      ...(g.interval ? { interval: scaleDuration(g.interval, o.factor, 1) } : {}),
      rules: g.rules.map((r) => ({
        ...r,
        expr: shortenExpr(String(r.expr), o),
        ...(r.for ? { for: scaleDuration(r.for, o.factor, 1) } : {}),
      })),
    })),
  };
}

/** Writes every shipped rule file, shortened, under `dir` with its shipped file name. */
export function writeShortenedRules(dir: string, o: ShortenOptions): string[] {
  mkdirSync(dir, { recursive: true });
  return ruleFiles().map((file) => {
    const out = join(dir, basename(file));
    writeFileSync(out, stringify(shortenRuleDocument(readYaml<RuleDoc>(file), o), { lineWidth: 0 }));
    return out;
  });
}
