/**
 * Several runs of `compare.ts` read together: each run's split of rounds (B lower / B higher) on
 * overhead p50, p99, mean and CPU per request with the sign test's p, then the rounds of all runs
 * pooled. A tail difference on this VM has turned over between two runs of the same A/B (20 of 24
 * rounds one way after 11 of 16 the other, bench/HISTORY.md, observability's tail), so a split
 * counts when the runs agree; the command says when they do not.
 *
 *   npx tsx bench/pool-compare.ts bench/results/compare-<time1>.json bench/results/compare-<time2>.json
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseCommandLine, refuseOption } from './lib/command-line.js';
import { formatP, splitOfRounds, type Round, type RoundsSplit } from './lib/paired-rounds.js';
import type { PhaseResult } from './lib/phase.js';
import { table } from './lib/report.js';

const usage = 'usage: tsx bench/pool-compare.ts COMPARE_JSON [COMPARE_JSON ...]  (files written by bench/compare.ts)';
const { positionals } = parseCommandLine({ options: {}, allowPositionals: true }, usage);
if (positionals.length === 0) refuseOption('give one or more results/compare-<timestamp>.json files', usage);

interface CompareFile {
  builds: { A: string; B: string };
  rounds: Array<Record<'direct' | 'A' | 'B', PhaseResult>>;
}

const figures: Array<[string, (p: PhaseResult) => number | undefined]> = [
  ['overhead p50', (p) => p.latency.p50],
  ['overhead p99', (p) => p.latency.p99],
  ['overhead mean', (p) => p.latency.mean],
  ['CPU per request', (p) => p.gatewayCpuUsPerRequest],
];

function read(file: string): { name: string; builds: CompareFile['builds']; rounds: Round[] } {
  let parsed: CompareFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as CompareFile;
  } catch (err) {
    refuseOption(`${file}: ${err instanceof Error ? err.message : String(err)}`, usage);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.rounds) || typeof parsed.builds !== 'object' || parsed.builds === null) refuseOption(`${file}: not a file written by bench/compare.ts (no rounds or builds)`, usage);
  // compare.ts's A is the baseline and B the variant: paired-rounds.ts calls them off and on.
  return { name: basename(file), builds: parsed.builds, rounds: parsed.rounds.map((r) => ({ direct: r.direct, off: r.A, on: r.B })) };
}

const runs = positionals.map(read);
const all = runs.flatMap((run) => run.rounds);
// One split per run and figure, used by both the table and the disagreement check.
const splits = runs.map((run) => figures.map(([, pick]) => splitOfRounds(run.rounds, pick)));
const cell = (s: RoundsSplit): string => `${s.lower} / ${s.higher} (p ${formatP(s.p)})`;

const rows = runs.map((run, i) => [run.name, `${run.builds.A} → ${run.builds.B}`, String(run.rounds.length), ...splits[i]!.map(cell)]);
rows.push(['pooled', '', String(all.length), ...figures.map(([, pick]) => cell(splitOfRounds(all, pick)))]);
process.stdout.write(`Rounds where B was lower / higher than A, with the sign test's two-sided p:\n\n${table(['run', 'A → B', 'rounds', ...figures.map(([name]) => name)], rows)}\n`);

const disagreements = figures
  .filter((_, f) => {
    const leanings = splits.map((run) => Math.sign(run[f]!.lower - run[f]!.higher));
    return leanings.includes(1) && leanings.includes(-1);
  })
  .map(([name]) => name);
if (disagreements.length > 0) process.stdout.write(`\nThe runs lean opposite ways on ${disagreements.join(', ')}: read the pooled p there as no finding.\n`);
const variants = new Set(runs.map((run) => run.builds.B));
if (variants.size > 1) process.stdout.write(`\nThe runs name ${variants.size} different B builds: pool them only if they are the same change.\n`);
