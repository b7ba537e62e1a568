/**
 * `npm run bench`: the benchmark suite of DESIGN §9, on loopback against the simulator.
 *
 *   npm run bench                               all scenarios (about 3½ minutes; builds dist/ first, --no-build to skip)
 *   npm run bench -- --quick                    a short smoke run of every scenario (under a minute)
 *   npm run bench -- --scenarios 1,4            pick scenarios: 1 non-streamed, 2 max-rate, 3 streaming, 4 observability
 *   npm run bench -- --scenarios 1 --rates 500  scenario 1 at other arrival rates
 *   npm run bench -- --runtime tsx              run the TypeScript sources through tsx instead of dist/ (no build)
 *   npm run bench -- --scenarios 1 --cpu-prof   profile the gateway (node --cpu-prof) and print its hot functions
 *   npm run bench -- --dist /tmp/old/dist       the gateway from another build (before/after; the simulator stays dist/)
 *   npm run bench -- --keep                     keep the run directory under .tmp/ (configs, gateway logs, event files)
 *
 * The simulator and the gateway run as child processes; this process is only the load
 * generator. Results: a markdown table on stdout, bench/results/<scenario>-<timestamp>.json and
 * bench/results/latest.md (latest-quick.md for --quick). Progress goes to stderr.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BenchStack } from './lib/bench-stack.js';
import { progressLogger, type BenchContext } from './lib/context.js';
import { machineInfo } from './lib/proc-stats.js';
import type { MachineSpeed } from './lib/speed-probe.js';
import { buildDist, repoRoot, type Runtime } from './lib/processes.js';
import { runMarkdown, writeResults, type RunMeta, type ScenarioOutcome } from './lib/report.js';
import { maxRateScenario } from './scenarios/max-rate.js';
import { nonStreamedScenario, type RatePoint } from './scenarios/non-streamed.js';
import { observabilityScenario } from './scenarios/observability.js';
import { streamingScenario } from './scenarios/streaming.js';
import { parseCommandLine, refuseOption } from './lib/command-line.js';

const scenarioNames: Record<string, number> = { '1': 1, 'non-streamed': 1, '2': 2, 'max-rate': 2, '3': 3, streaming: 3, '4': 4, observability: 4 };
const usage =
  'usage: npm run bench -- [--quick] [--scenarios 1,2,3,4] [--rates 200,500] [--runtime dist|tsx] [--no-build] [--dist DIR] [--cpu-prof] [--keep]\n' +
  '  scenarios: 1 non-streamed, 2 max-rate, 3 streaming, 4 observability';

function parse() {
  const { values } = parseCommandLine(
    {
      options: {
        quick: { type: 'boolean', default: false },
        scenarios: { type: 'string', default: '1,2,3,4' },
        runtime: { type: 'string', default: 'dist' },
        'cpu-prof': { type: 'boolean', default: false },
        'no-build': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        rates: { type: 'string' },
        dist: { type: 'string' },
      },
      strict: true,
    },
    usage,
  );
  const selected = new Set<number>();
  for (const name of values.scenarios.split(',').map((s) => s.trim()).filter(Boolean)) {
    const n = scenarioNames[name];
    if (n === undefined) refuseOption(`unknown scenario '${name}'`, usage);
    selected.add(n);
  }
  if (values.runtime !== 'tsx' && values.runtime !== 'dist') refuseOption(`--runtime must be tsx or dist, not '${values.runtime}'`, usage);
  const rates = values.rates?.split(',').map((r) => Number(r.trim()));
  if (rates?.some((r) => !(r > 0))) refuseOption('--rates expects positive numbers, e.g. 200,500', usage);
  if (values.dist !== undefined && values.runtime !== 'dist') refuseOption('--dist needs --runtime dist', usage);
  return { quick: values.quick, selected, runtime: values.runtime as Runtime, cpuProf: values['cpu-prof'], keep: values.keep, build: !values['no-build'] && values.dist === undefined, rates, dist: values.dist === undefined ? undefined : resolve(values.dist) };
}

async function main(): Promise<void> {
  const args = parse();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const log = progressLogger(started);
  const machine = machineInfo();
  const workDir = join(repoRoot, '.tmp', `bench-${startedAt.replace(/[:.]/g, '-')}`);
  mkdirSync(workDir, { recursive: true });
  const ctx: BenchContext = { quick: args.quick, runtime: args.runtime, cpuProf: args.cpuProf, rates: args.rates, gatewayDist: args.dist, workDir, resultsDir: join(repoRoot, 'bench/results'), log };
  log(`triton-gateway bench: scenarios ${[...args.selected].sort().join(',')}${args.quick ? ' (quick)' : ''}, runtime ${args.runtime}; load average ${machine.loadAverage.join(' / ')}`);
  if (args.runtime === 'dist' && args.build) {
    buildDist(log);
  }

  const stack = new BenchStack(ctx);
  // Sampling from the start, so the report can say how fast the host let the machine run throughout.
  const speed = await stack.speedProbe();
  const outcomes: ScenarioOutcome[] = [];
  const timed = async (o: Promise<ScenarioOutcome>): Promise<ScenarioOutcome> => {
    const out = await o;
    log(`${out.title}: ${out.seconds.toFixed(0)} s`);
    outcomes.push(out);
    return out;
  };
  const stopSignal = (): void => {
    void stack.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopSignal);
  process.once('SIGTERM', stopSignal);
  let machineSpeed: MachineSpeed | undefined;
  try {
    let points: RatePoint[] = [];
    if (args.selected.has(1)) points = ((await timed(nonStreamedScenario(ctx, stack))) as ScenarioOutcome & { points: RatePoint[] }).points;
    if (args.selected.has(2)) await timed(maxRateScenario(ctx, stack, points));
    if (args.selected.has(4)) await timed(observabilityScenario(ctx, stack));
    // The zero-latency processes are done; stop them before the streaming run needs the CPU.
    await stack.stopGateway('gateway-on');
    await stack.stopSim('zero');
    if (args.selected.has(3)) await timed(streamingScenario(ctx, stack));
  } finally {
    machineSpeed = speed.all();
    await stack.close();
  }
  // Configs, logs and event files of the children; profiles are kept (latest.md names them).
  if (!args.cpuProf && !args.keep) rmSync(workDir, { recursive: true, force: true });

  const meta: RunMeta = {
    startedAt,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    loadAverageAfter: machineInfo().loadAverage,
    options: { quick: args.quick, scenarios: [...args.selected], runtime: args.runtime, cpuProf: args.cpuProf, rates: args.rates, gatewayDist: args.dist },
    totalSeconds: (performance.now() - started) / 1000,
    machineSpeed,
  };
  const extra = stack.profiles.length > 0 ? ['## CPU profiles', '', ...stack.profiles.map((p) => `${p.markdown}\nFile: \`${p.file}\`\n`)] : [];
  if (args.quick) for (const o of outcomes) o.id = `${o.id}-quick`;
  // Run order puts streaming last (it needs the CPU to itself); the report follows the numbering.
  outcomes.sort((a, b) => a.title.localeCompare(b.title));
  const files = writeResults(ctx.resultsDir, outcomes, meta, extra, args.quick ? 'latest-quick.md' : 'latest.md');
  process.stdout.write(`${runMarkdown(outcomes, meta, extra)}\n`);
  log(`wrote ${files.map((f) => f.replace(repoRoot, '')).join(', ')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
