/** The alerting rules of prometheus/rules, flattened for the ops tests. */
import { basename } from 'node:path';
import { listFiles, readYaml } from './repo-files.js';

export interface AlertRule {
  name: string;
  file: string;
  group: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface RuleFileDoc {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}

export const ruleFiles = (): string[] => listFiles('prometheus/rules', ['.yml', '.yaml']);

export function ruleDocuments(): RuleFileDoc[] {
  return ruleFiles().map((f) => readYaml<RuleFileDoc>(f));
}

export function alertRules(): AlertRule[] {
  const out: AlertRule[] = [];
  for (const file of ruleFiles()) {
    for (const group of readYaml<RuleFileDoc>(file).groups) {
      for (const rule of group.rules) {
        if (!rule.alert) continue;
        out.push({
          name: rule.alert,
          file: basename(file),
          group: group.name,
          expr: rule.expr,
          ...(rule.for ? { for: rule.for } : {}),
          labels: rule.labels ?? {},
          annotations: rule.annotations ?? {},
        });
      }
    }
  }
  return out;
}

/** Where every alert's runbook_url must point: this base plus `<AlertName>.md`. */
export const runbookUrlBase = 'https://github.com/triton-gateway/triton-gateway/blob/main/runbooks/';
