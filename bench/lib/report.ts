/**
 * Markdown tables, budget checks and the files of a run: one JSON per scenario
 * (bench/results/<scenario>-<timestamp>.json) and bench/results/latest.md with every table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './proc-stats.js';
import type { MachineSpeed } from './speed-probe.js';

export interface BudgetCheck {
  budget: string;
  limit: string;
  measured: string;
  /** undefined: not measured in this run. */
  pass: boolean | undefined;
}

export interface ScenarioOutcome {
  id: string;
  title: string;
  markdown: string;
  data: unknown;
  budgets: BudgetCheck[];
  seconds: number;
}

export interface RunMeta {
  startedAt: string;
  command: string;
  machine: MachineInfo;
  loadAverageAfter: number[];
  options: Record<string, unknown>;
  totalSeconds: number;
  /** The speed probe's samples over the whole run (speed-probe.ts). */
  machineSpeed?: MachineSpeed;
}

export function table(headers: string[], rows: string[][]): string {
  const align = headers.map((_, i) => (i === 0 ? '---' : '---:'));
  return [`| ${headers.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function budgetTable(budgets: BudgetCheck[]): string {
  return table(
    ['budget', 'limit', 'measured', 'result'],
    budgets.map((b) => [b.budget, b.limit, b.measured, b.pass === undefined ? 'not measured' : b.pass ? 'pass' : '**FAIL**']),
  );
}

export function machineLine(m: MachineInfo): string {
  const gateway = m.gatewayNode ? ` (the gateway and the bare relay on Node ${m.gatewayNode}, BENCH_GATEWAY_NODE)` : '';
  return `${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}${gateway}`;
}

/** How fast the host let the machine run: the speed probe's samples over the run. */
export function machineSpeedLine(speed: MachineSpeed | undefined): string {
  if (!speed) return '';
  return ` Machine speed (a fixed workload's CPU time, \`bench/speed-probe-process.ts\`; lower is faster): median ${speed.nsPerOp.toFixed(1)} ns/op, ${speed.min.toFixed(1)}–${speed.max.toFixed(1)} over ${speed.samples} samples.`;
}

export function runMarkdown(outcomes: ScenarioOutcome[], meta: RunMeta, extra: string[] = []): string {
  const budgets = outcomes.flatMap((o) => o.budgets);
  return [
    `# Benchmark results (${meta.startedAt})`,
    '',
    `Command: \`${meta.command}\``,
    '',
    `Machine: ${machineLine(meta.machine)}; load average before ${meta.machine.loadAverage.join(' / ')}, after ${meta.loadAverageAfter.join(' / ')}. Total ${meta.totalSeconds.toFixed(0)} s.${machineSpeedLine(meta.machineSpeed)}`,
    '',
    ...(budgets.length > 0 ? ['## Budgets', '', budgetTable(budgets), ''] : []),
    ...outcomes.flatMap((o) => [`## ${o.title}`, '', o.markdown, '']),
    ...extra,
  ].join('\n');
}

export function writeResults(resultsDir: string, outcomes: ScenarioOutcome[], meta: RunMeta, extra: string[] = [], latestName = 'latest.md'): string[] {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = meta.startedAt.replace(/[:.]/g, '-');
  const files: string[] = [];
  for (const o of outcomes) {
    const file = join(resultsDir, `${o.id}-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify({ scenario: o.id, title: o.title, ...meta, seconds: o.seconds, budgets: o.budgets, data: o.data }, null, 2)}\n`);
    files.push(file);
  }
  const latest = join(resultsDir, latestName);
  writeFileSync(latest, `${runMarkdown(outcomes, meta, extra)}\n`);
  files.push(latest);
  return files;
}
