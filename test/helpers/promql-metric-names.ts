/**
 * Metric names used by PromQL expressions, Prometheus rule files and Grafana dashboards.
 *
 * The ops tests check these names against docs/metrics.md; the contract test checks them against
 * a real scrape of the gateway and the simulator. PromQL is not parsed fully: label matchers,
 * strings, range selectors and grouping clauses are removed, and every remaining identifier that
 * is not a function call, a keyword or part of a number is a metric name. That is enough for the
 * expressions we write and errs on the side of reporting a name.
 */

const KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'bool', 'offset', 'inf', 'nan', 'start', 'end', 'atan2',
]);

/** Metric names in one PromQL expression, in order of first use. */
export function extractMetricNames(expr: string): string[] {
  const names: string[] = [];
  const add = (name: string) => {
    if (!names.includes(name)) names.push(name);
  };
  // {__name__="x"} names a metric through a label matcher.
  for (const m of expr.matchAll(/__name__\s*=\s*"([A-Za-z_:][A-Za-z0-9_:]*)"/g)) add(m[1]!);
  const stripped = expr
    .replace(/#[^\n]*/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  for (const m of stripped.matchAll(/(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const token = m[0];
    const rest = stripped.slice(m.index! + token.length);
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation call
    if (KEYWORDS.has(token.toLowerCase())) continue;
    add(token);
  }
  return names;
}

/** A histogram's series name (`x_bucket`, `x_sum`, `x_count`) mapped to the histogram's name. */
export function baseMetricName(name: string): string {
  return name.replace(/_(?:bucket|sum|count)$/, '');
}

interface RuleGroupsDoc {
  groups?: { rules?: { record?: string; alert?: string; expr?: string | number }[] }[];
}

/** The names recording rules define (they are derived series, not scraped ones). */
export function recordedNames(docs: RuleGroupsDoc[]): Set<string> {
  const out = new Set<string>();
  for (const doc of docs) for (const g of doc.groups ?? []) for (const r of g.rules ?? []) if (r.record) out.add(r.record);
  return out;
}

/**
 * Scraped metric names that the rules use, with the rule that uses each. Names defined by a
 * recording rule are left out: the recording rule's own expression is scanned instead.
 */
export function metricNamesInRules(docs: RuleGroupsDoc[]): Map<string, string[]> {
  const recorded = recordedNames(docs);
  const out = new Map<string, string[]>();
  for (const doc of docs) {
    for (const g of doc.groups ?? []) {
      for (const r of g.rules ?? []) {
        const user = r.alert ?? r.record ?? '(unnamed rule)';
        for (const name of extractMetricNames(String(r.expr ?? ''))) {
          if (recorded.has(name)) continue;
          out.set(name, [...(out.get(name) ?? []), user]);
        }
      }
    }
  }
  return out;
}

/**
 * The PromQL of a Grafana dashboard: every panel target's `expr` (rows and nested panels
 * included) and the queries of Prometheus template variables, `label_values(metric, label)`
 * reduced to its metric selector.
 */
export function dashboardExpressions(dashboard: unknown): string[] {
  const exprs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (typeof obj.expr === 'string') exprs.push(obj.expr);
    for (const [key, value] of Object.entries(obj)) if (key !== 'templating') walk(value);
  };
  walk(dashboard);
  const templating = (dashboard as { templating?: { list?: unknown[] } }).templating;
  for (const variable of templating?.list ?? []) {
    const v = variable as { type?: string; query?: unknown; definition?: unknown };
    if (v.type !== 'query') continue;
    const raw = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (!raw) continue;
    const labelValues = /^\s*label_values\(\s*(.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s.exec(raw);
    const queryResult = /^\s*query_result\((.*)\)\s*$/s.exec(raw);
    if (labelValues) exprs.push(labelValues[1]!);
    else if (queryResult) exprs.push(queryResult[1]!);
    else if (!/^\s*label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/.test(raw)) exprs.push(raw);
  }
  return exprs;
}

/** Metric names a dashboard uses (recorded names included; filter them with recordedNames()). */
export function metricNamesInDashboard(dashboard: unknown): string[] {
  const names = new Set<string>();
  for (const expr of dashboardExpressions(dashboard)) for (const n of extractMetricNames(expr)) names.add(n);
  return [...names];
}
