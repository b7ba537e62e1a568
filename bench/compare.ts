/**
 * Before/after: two builds of the gateway side by side against one simulator, at one rate,
 * in alternating phases (direct, A, B; then direct, B, A; ...), medians over the rounds. Used
 * to show what a change to the hot path buys on a noisy shared machine.
 *
 *   npm run build && cp -r dist /tmp/after        # and a build of the old code in /tmp/before
 *   npx tsx bench/compare.ts --a /tmp/before --b /tmp/after [--rate 500] [--rounds 4] [--seconds 4] [--observability on|off]
 *
 * Each round's line gives both builds' overhead p50, p99 and mean and CPU per request; the end,
 * the medians over rounds, B − A paired within each round and how many rounds B was lower in.
 * A single p99 or mean median moves by 2× between runs of one build here, so the per-round
 * counts and the JSON (bench/results/compare-<timestamp>.json, every phase) are what let
 * several runs be pooled.
 *
 * --a and --b are dist directories (each with src/server.js and src/telemetry/tracing.js).
 * `--a-node-flags` / `--b-node-flags` add Node flags to one gateway (a runtime setting A/B'd on
 * one build: `--a dist --b dist --b-node-flags=--v8-pool-size=1`; the `=` form, as the value starts with `--`).
 * `--a-node` / `--b-node` run one gateway on another Node binary (a runtime A/B'd on one build:
 * `--a dist --b dist --b-node /opt/node22/bin/node`); the load generator and the simulator stay on this one.
 * `--upstream-failures 0.2` has the simulator fail that fraction of calls with UNAVAILABLE (a
 * flaky Triton: the gateway's retries and breakers at work; the direct path fails as many). CPU
 * per request is then per completed request, alike for both builds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { progressLogger, ms } from './lib/context.js';
import { warmUp } from './lib/warm-up.js';
import { directClient } from './lib/direct-client.js';
import { completionClient } from './lib/gateway-client.js';
import { startOtlpSink } from './lib/otlp-sink.js';
import { startSpeedProbe } from './lib/speed-probe.js';
import { median } from './lib/percentiles.js';
import { mainThreadCpuUsPerRequest, measurePhase, type PhaseResult } from './lib/phase.js';
import { benchModel, nodeFlagList, repoRoot, startGateway, startSim } from './lib/processes.js';
import { tritonModel } from './lib/bench-stack.js';
import type { FaultSpec } from '../sim/index.js';
import { machineLine, table } from './lib/report.js';
import { machineInfo } from './lib/proc-stats.js';
import { formatP, pairedExtraCost, splitOfRounds } from './lib/paired-rounds.js';
import { parseCommandLine, refuseOption } from './lib/command-line.js';

const usage =
  'usage: tsx bench/compare.ts --a DIST_A --b DIST_B [--rate N] [--rounds N] [--seconds N] [--observability on|off] [--upstream-failures FRACTION] [--a-node-flags=FLAGS] [--b-node-flags=FLAGS] [--a-node NODE] [--b-node NODE]';
const { values } = parseCommandLine({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    rate: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '4' },
    observability: { type: 'string', default: 'on' },
    'upstream-failures': { type: 'string', default: '0' },
    'a-node-flags': { type: 'string', default: '' },
    'b-node-flags': { type: 'string', default: '' },
    'a-node': { type: 'string' },
    'b-node': { type: 'string' },
  },
}, usage);
if (!values.a || !values.b) {
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}
/** Each gateway's Node binary and its version, checked before anything starts. */
const nodes = { A: nodeBinary('--a-node', values['a-node']), B: nodeBinary('--b-node', values['b-node']) };
const rate = Number(values.rate);
const rounds = Number(values.rounds);
const durationMs = Number(values.seconds) * 1000;
for (const [name, n] of Object.entries({ rate, rounds, seconds: durationMs })) {
  if (!(n > 0) || !Number.isFinite(n)) refuseOption(`--${name} expects a positive number`, usage);
}
if (!Number.isInteger(rounds)) refuseOption('--rounds expects a whole number', usage);
if (values.observability !== 'on' && values.observability !== 'off') refuseOption(`--observability expects on or off, not '${values.observability}'`, usage);
const observability = values.observability;
const upstreamFailures = Number(values['upstream-failures']);
if (!(upstreamFailures >= 0 && upstreamFailures < 1)) refuseOption(`--upstream-failures expects a fraction from 0 to below 1, not '${values['upstream-failures']}'`, usage);

function nodeBinary(option: string, path: string | undefined): { path: string | undefined; version: string } {
  const binary = path ?? process.env.BENCH_GATEWAY_NODE ?? process.execPath;
  try {
    return { path, version: execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim() };
  } catch (err) {
    process.stderr.write(`${option}: cannot run '${binary}' as Node (${(err as Error).message.split('\n')[0]})\n${usage}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const log = progressLogger();
  const workDir = join(repoRoot, '.tmp', `compare-${Date.now()}`);
  mkdirSync(workDir, { recursive: true });
  const sink = await startOtlpSink();
  const speed = await startSpeedProbe();
  const sim = await startSim({ runtime: 'tsx', workDir });
  if (upstreamFailures > 0) await failAFraction(sim.httpUrl, upstreamFailures);
  const direct = await directClient(sim.grpcAddress, tritonModel, { maxTokens: 16, streamTokens: 16 });
  const builds = { A: resolve(values.a!), B: resolve(values.b!) };
  const nodeFlags = { A: nodeFlagList(values['a-node-flags']), B: nodeFlagList(values['b-node-flags']) };
  const gateways = await Promise.all(
    (['A', 'B'] as const).map(async (label) => {
      const process = await startGateway({ runtime: 'dist', distDir: builds[label], workDir, label, sim, observability, otlpEndpoint: sink.endpoint, nodeFlags: nodeFlags[label], node: nodes[label].path });
      return { label, process, client: completionClient(process.url, benchModel, { maxTokens: 16, streamTokens: 16 }) };
    }),
  );
  // The Node version is named only when the two sides differ in it, so same-runtime runs read as before.
  const versionShown = nodes.A.version !== nodes.B.version;
  const described = (label: 'A' | 'B'): string => {
    const notes = [...(versionShown ? [`Node ${nodes[label].version}`] : []), ...nodeFlags[label]];
    return `${builds[label]}${notes.length > 0 ? ` (${notes.join(' ')})` : ''}`;
  };
  const failing = upstreamFailures > 0 ? `, Triton failing ${ms(100 * upstreamFailures, 0)}% of calls` : '';
  log(`A = ${described('A')}, B = ${described('B')}; ${rate} req/s, ${rounds} rounds of ${durationMs / 1000} s, observability ${observability}${failing}`);
  await warmUp({ quick: false, log }, 'the direct path', (i) => direct.complete(i));
  for (const gw of gateways) await warmUp({ quick: false, log }, `gateway ${gw.label}`, (i) => gw.client.complete(i));
  const results: Array<Record<'direct' | 'A' | 'B', PhaseResult>> = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['direct', 'A', 'B'] as const) : (['direct', 'B', 'A'] as const);
      const round = {} as Record<'direct' | 'A' | 'B', PhaseResult>;
      for (const path of order) {
        if (path === 'direct') round.direct = await measurePhase({ path, send: (i) => direct.complete(i), simPid: sim.pid, speed }, rate, durationMs, 750);
        else {
          const gw = gateways.find((g) => g.label === path)!;
          round[path] = await measurePhase({ path, send: (i) => gw.client.complete(i), gatewayPid: gw.process.pid, gatewayUrl: gw.process.url, simPid: sim.pid, speed }, rate, durationMs, 750);
        }
      }
      results.push(round);
      log(
        `round ${r + 1}: overhead p50 A ${ms(round.A.latency.p50 - round.direct.latency.p50)} B ${ms(round.B.latency.p50 - round.direct.latency.p50)} ms, ` +
          `p99 A ${ms(round.A.latency.p99 - round.direct.latency.p99)} B ${ms(round.B.latency.p99 - round.direct.latency.p99)} ms, ` +
          `mean A ${ms(round.A.latency.mean - round.direct.latency.mean)} B ${ms(round.B.latency.mean - round.direct.latency.mean)} ms; ` +
          `CPU/req A ${ms(round.A.gatewayCpuUsPerRequest, 0)} B ${ms(round.B.gatewayCpuUsPerRequest, 0)} µs; machine speed A ${ms(round.A.machineNsPerOp, 1)} B ${ms(round.B.machineNsPerOp, 1)} ns/op`,
      );
    }
  } finally {
    for (const g of gateways) {
      g.client.close();
      await g.process.stop();
    }
    direct.close();
    await sim.stop();
    await sink.close();
    await speed.close();
  }
  const row = (label: 'A' | 'B'): string[] => [
    `${label} (${described(label)})`,
    ms(median(results.map((r) => r[label].latency.p50 - r.direct.latency.p50))),
    ms(median(results.map((r) => r[label].latency.p99 - r.direct.latency.p99))),
    ms(median(results.map((r) => r[label].latency.mean - r.direct.latency.mean))),
    ms(median(results.map((r) => r[label].gatewayCpuUsPerRequest ?? Number.NaN)), 0),
    ms(median(results.map((r) => mainThreadCpuUsPerRequest(r[label]))), 0),
    ms(median(results.map((r) => r[label].gatewayTime?.gcMsPerS ?? Number.NaN)), 1),
    ms(median(results.map((r) => r[label].gatewayTime?.runQueueMsPerS ?? Number.NaN)), 1),
    ms(median(results.map((r) => r[label].machineNsPerOp ?? Number.NaN)), 1),
    String(results.reduce((n, r) => n + r[label].errors + r[label].dropped, 0)),
  ];
  process.stdout.write(
    `\n${rate} req/s, observability ${observability}${failing}, medians of ${rounds} rounds (direct p50 ${ms(median(results.map((r) => r.direct.latency.p50)))} ms)\n\n` +
      `${table(['build', 'overhead p50 (ms)', 'overhead p99 (ms)', 'overhead mean (ms)', 'gateway CPU/req (µs)', 'main thread CPU/req (µs)', 'GC pauses (ms/s)', 'waiting for a core (ms/s)', 'machine speed (ns/op)', 'errors'], [row('A'), row('B')])}\n\n` +
      `${pairedLine(results)}\n`,
  );
  const file = join(repoRoot, 'bench/results', `compare-${startedAt.replace(/[:.]/g, '-')}.json`);
  const command = `npx tsx bench/compare.ts ${process.argv.slice(2).join(' ')}`.trim();
  writeFileSync(file, `${JSON.stringify({ startedAt, command, machine: machineLine(machineInfo()), rate, seconds: durationMs / 1000, observability, upstreamFailures, builds: { A: described('A'), B: described('B') }, rounds: results }, null, 2)}\n`);
  log(`wrote ${file}`);
}

/** The simulator's fault for the benchmark's model: UNAVAILABLE on that fraction of calls, drawn at random. */
async function failAFraction(simHttpUrl: string, fraction: number): Promise<void> {
  const fault: FaultSpec = { kind: 'error', code: 'UNAVAILABLE', message: 'bench: injected failure', fraction };
  const res = await fetch(`${simHttpUrl}/control/faults/${tritonModel}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
  if (!res.ok) throw new Error(`the simulator refused the fault: ${res.status} ${await res.text()}`);
}

/**
 * B − A paired within each round (the phases of one round are seconds apart, on the same
 * machine's moment), the median over rounds, and in how many rounds B was lower.
 */
function pairedLine(results: ReadonlyArray<Record<'direct' | 'A' | 'B', PhaseResult>>): string {
  const rounds = results.map((r) => ({ direct: r.direct, off: r.A, on: r.B }));
  const d = pairedExtraCost(rounds);
  const lower = (pick: (p: PhaseResult) => number | undefined): string => {
    const split = splitOfRounds(rounds, pick);
    return `${split.lower} of ${rounds.length}, p ${formatP(split.p)}`;
  };
  return (
    `B − A, paired per round (median over rounds; rounds where B was lower, and the sign test's two-sided p): ` +
    `overhead p50 ${ms(d.p50)} ms (${lower((p) => p.latency.p50)}), p99 ${ms(d.p99)} ms (${lower((p) => p.latency.p99)}), ` +
    `mean ${ms(d.mean)} ms (${lower((p) => p.latency.mean)}); CPU per request ${ms(d.cpuUs, 0)} µs, ${ms(d.cpuPercent, 1)}% ` +
    `(${lower((p) => p.gatewayCpuUsPerRequest)}), of which the main thread ${ms(d.mainThreadCpuUs, 0)} µs.`
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`compare failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
