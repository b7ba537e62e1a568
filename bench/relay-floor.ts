/**
 * The floor under the gateway's overhead on this machine: the same traffic straight to the
 * simulator (direct), through a bare relay (bench/bare-relay-process.ts: parse, one gRPC stream
 * with the gateway's codec, JSON or one SSE write per token, nothing else) and through the
 * gateway with everything on, in one run on one machine. What the bare relay adds over direct is
 * what any Node gateway pays here for HTTP, gRPC and the sockets; the gateway's budgets
 * (DESIGN §9) are only meetable where that floor is well under them.
 *
 *   npx tsx bench/relay-floor.ts [--rate 500] [--rounds 3] [--seconds 4] [--streams 1000] [--stream-rounds 2] [--parts non-streamed,streaming] [--observability on|off] [--no-build]
 *
 * `--observability off` runs the non-streamed gateway with tracing, metrics and logs off, to set
 * the gateway's request path alone against the relay.
 *
 * Prints markdown tables and writes bench/results/relay-floor-<timestamp>.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBareRelay, type BareRelay } from './lib/bare-relay.js';
import { BenchStack, nonStreamedTokens, tritonModel } from './lib/bench-stack.js';
import { ms, progressLogger, type BenchContext } from './lib/context.js';
import { warmUp } from './lib/warm-up.js';
import { completionClient, type CompletionClient } from './lib/gateway-client.js';
import { median } from './lib/percentiles.js';
import { measurePhase, type PhaseResult } from './lib/phase.js';
import { machineInfo, rssBytes } from './lib/proc-stats.js';
import { benchModel, buildDist, repoRoot } from './lib/processes.js';
import { machineLine, table } from './lib/report.js';
import { cpuUsPerRelayedToken, runStreams, type StreamingShape, type StreamRun } from './scenarios/streaming.js';
import { parseCommandLine, refuseOption } from './lib/command-line.js';

const usage = 'usage: tsx bench/relay-floor.ts [--rate N] [--rounds N] [--seconds N] [--streams N] [--stream-rounds N] [--parts non-streamed,streaming] [--observability on|off] [--no-build]';
const { values } = parseCommandLine({
  options: {
    rate: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    streams: { type: 'string', default: '1000' },
    'stream-rounds': { type: 'string', default: '2' },
    parts: { type: 'string', default: 'non-streamed,streaming' },
    observability: { type: 'string', default: 'on' },
    'no-build': { type: 'boolean', default: false },
  },
}, usage);
const rate = Number(values.rate);
const rounds = Number(values.rounds);
const durationMs = Number(values.seconds) * 1000;
const streams = Number(values.streams);
const streamRounds = Number(values['stream-rounds']);
const parts = new Set(values.parts.split(',').map((p) => p.trim()));
for (const [name, n] of Object.entries({ rate, rounds, seconds: durationMs, streams, 'stream-rounds': streamRounds })) {
  if (!(n > 0) || !Number.isFinite(n)) refuseOption(`--${name} expects a positive number`, usage);
}
if (values.observability !== 'on' && values.observability !== 'off') refuseOption(`--observability expects on or off, not '${values.observability}'`, usage);
const observability = values.observability;
for (const p of parts) if (p !== 'non-streamed' && p !== 'streaming') refuseOption(`--parts: unknown part '${p}' (non-streamed, streaming)`, usage);

type Path = 'direct' | 'bare relay' | 'gateway';

async function nonStreamed(ctx: BenchContext, stack: BenchStack, relays: BareRelay[]): Promise<{ markdown: string; data: unknown }> {
  const sim = await stack.sim('zero');
  const gw = await stack.gateway('gateway-on', 'zero', observability);
  const relay = await startBareRelay(sim.process.grpcAddress, tritonModel, { compileTo: join(ctx.workDir, 'bare-relay') });
  relays.push(relay);
  const relayClient = completionClient(relay.url, benchModel, { maxTokens: nonStreamedTokens, streamTokens: nonStreamedTokens });
  const send: Record<Path, { send: (i: number) => Promise<void>; pid?: number; url?: string }> = {
    direct: { send: (i) => sim.direct.complete(i) },
    'bare relay': { send: (i) => relayClient.complete(i), pid: relay.pid },
    gateway: { send: (i) => gw.client.complete(i), pid: gw.process.pid, url: gw.process.url },
  };
  const speed = await stack.speedProbe();
  const phase = (path: Path, phaseMs: number, warmupMs: number): Promise<PhaseResult> =>
    measurePhase({ path, send: send[path].send, gatewayPid: send[path].pid, gatewayUrl: send[path].url, simPid: sim.process.pid, speed }, rate, phaseMs, warmupMs);
  // The direct path and the gateway were warmed when the stack started them (lib/warm-up.ts).
  await warmUp(ctx, 'the bare relay', (i) => relayClient.complete(i));
  const results: Array<Record<Path, PhaseResult>> = [];
  for (let r = 0; r < rounds; r++) {
    const order: Path[] = r % 2 === 0 ? ['direct', 'bare relay', 'gateway'] : ['direct', 'gateway', 'bare relay'];
    const round = {} as Record<Path, PhaseResult>;
    for (const path of order) round[path] = await phase(path, durationMs, 750);
    results.push(round);
    ctx.log(
      `  round ${r + 1}: overhead p50 / p99 bare relay ${ms(round['bare relay'].latency.p50 - round.direct.latency.p50)} / ${ms(round['bare relay'].latency.p99 - round.direct.latency.p99)} ms, ` +
        `gateway ${ms(round.gateway.latency.p50 - round.direct.latency.p50)} / ${ms(round.gateway.latency.p99 - round.direct.latency.p99)} ms`,
    );
  }
  relayClient.close();
  await relay.stop();
  await stack.stopGateway('gateway-on');
  await stack.stopSim('zero');
  const med = (pick: (r: Record<Path, PhaseResult>) => number | undefined): string => ms(median(results.map((r) => pick(r) ?? Number.NaN)));
  const row = (path: Path): string[] => [
    path,
    med((r) => r[path].latency.p50),
    med((r) => r[path].latency.p99),
    path === 'direct' ? '–' : med((r) => r[path].latency.p50 - r.direct.latency.p50),
    path === 'direct' ? '–' : med((r) => r[path].latency.p99 - r.direct.latency.p99),
    path === 'direct' ? '–' : ms(median(results.map((r) => r[path].gatewayCpuUsPerRequest ?? Number.NaN)), 0),
    path === 'direct' ? '–' : med((r) => r[path].gatewayCores),
    path === 'direct' ? '–' : ms(median(results.map((r) => r[path].gatewayTime?.runQueueMsPerS ?? Number.NaN)), 1),
    ms(median(results.map((r) => r[path].machineNsPerOp ?? Number.NaN)), 1),
    String(results.reduce((n, r) => n + r[path].errors + r[path].dropped, 0)),
  ];
  const markdown = [
    `### Non-streamed at ${rate} req/s`,
    '',
    `${rounds} round(s) of direct, bare relay and gateway (observability ${observability}) phases (${durationMs / 1000} s each after 0.75 s of warm-up), medians over the rounds; overhead is paired with the round's direct phase. ` +
      `${nonStreamedTokens} tokens per completion, zero model latency.`,
    '',
    table(
      ['path', 'p50 (ms)', 'p99 (ms)', 'overhead p50 (ms)', 'overhead p99 (ms)', 'CPU per request (µs)', 'CPU (cores)', 'main thread waiting for a core (ms/s)', 'machine speed (ns/op)', 'errors'],
      (['direct', 'bare relay', 'gateway'] as const).map(row),
    ),
  ].join('\n');
  return { markdown, data: { rate, rounds, durationMs, results } };
}

async function streaming(ctx: BenchContext, stack: BenchStack, relays: BareRelay[]): Promise<{ markdown: string; data: unknown }> {
  const shape: StreamingShape = { streams, tokens: 128, tpotMs: 50, rampMs: 2_000, probeRate: 50, probeTokens: 4 };
  const sim = await stack.sim('stream', { tpotMs: shape.tpotMs, streamTokens: shape.tokens });
  const gw = await stack.gateway('gateway-stream', 'stream', 'on', { streamTokens: shape.tokens });
  const relay = await startBareRelay(sim.process.grpcAddress, tritonModel, { compileTo: join(ctx.workDir, 'bare-relay') });
  relays.push(relay);
  const relayClient: CompletionClient = completionClient(relay.url, benchModel, { maxTokens: nonStreamedTokens, streamTokens: shape.tokens });
  const warm = { ...shape, streams: 50, tokens: 8, rampMs: 250, probeRate: 10 };
  ctx.log('streaming: warming up the three paths');
  await runStreams('warm-up', warm, (i, at, t, n) => sim.direct.stream(i, at, t, n ?? 8), sim.process.pid, sim.process.pid);
  await runStreams('warm-up', warm, (i, at, t, n) => relayClient.stream(i, at, t, n ?? 8), relay.pid, sim.process.pid);
  await runStreams('warm-up', warm, (i, at, t, n) => gw.client.stream(i, at, t, n ?? 8), gw.process.pid, sim.process.pid);
  const runs: Array<StreamRun & { round: number; rssBefore: number; rssPeak: number }> = [];
  const speed = await stack.speedProbe();
  const paths = {
    direct: { client: sim.direct, pid: sim.process.pid, url: undefined },
    'bare relay': { client: relayClient, pid: relay.pid, url: undefined },
    gateway: { client: gw.client, pid: gw.process.pid, url: gw.process.url },
  } as const;
  for (let round = 1; round <= streamRounds; round++) {
    // The relay and the gateway swap places between rounds, so neither always runs last.
    const order: Path[] = round % 2 === 1 ? ['direct', 'bare relay', 'gateway'] : ['direct', 'gateway', 'bare relay'];
    for (const path of order) {
      const { client, pid, url } = paths[path];
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const rssBefore = rssBytes(pid);
      let rssPeak = rssBefore;
      const sampleRss = (): void => {
        rssPeak = Math.max(rssPeak, rssBytes(pid));
      };
      const run = await runStreams(path, shape, (i, at, t, n) => client.stream(i, at, t, n), pid, sim.process.pid, { onPlateau: sampleRss, gatewayUrl: url, speed });
      runs.push({ ...run, round, rssBefore, rssPeak });
      ctx.log(`  round ${round}, ${path}: ${run.completed}/${run.streams} streams, probe TTFT p99 ${ms(run.probeTtft.p99)} ms, ${run.relayedTokensPerSecond.toFixed(0)} tokens/s, ${ms(run.plateauCores)} cores`);
    }
  }
  relayClient.close();
  await relay.stop();
  await stack.stopGateway('gateway-stream');
  await stack.stopSim('stream');
  const directOf = (r: (typeof runs)[number]): StreamRun => runs.find((d) => d.round === r.round && d.path === 'direct')!;
  const offered = (streams * 1000) / shape.tpotMs;
  const markdown = [
    `### Streaming: ${streams} open streams, ${shape.tokens} tokens at ${shape.tpotMs} ms/token (${offered} tokens/s offered)`,
    '',
    `${streamRounds} round(s) of one run per path, as scenario 3 runs it (background streams opened over 2 s, probes at 50/s on the plateau); overhead against the same round's direct run. CPU and RSS are the serving process's over the plateau: the simulator for direct, else the relay or the gateway (RSS before the run → peak).`,
    '',
    table(
      ['round', 'path', 'streams ok', 'probe TTFT p50 (ms)', 'probe TTFT p99 (ms)', 'TTFT overhead p50 / p99 (ms)', 'inter-token p99 (ms)', 'relayed tokens/s', 'CPU (cores)', 'CPU per relayed token (µs)', 'RSS (MB)', 'simulator + load generator (cores)', 'machine speed (ns/op)'],
      runs.map((r) => [
        String(r.round),
        r.path,
        `${r.completed}/${r.streams}`,
        ms(r.probeTtft.p50),
        ms(r.probeTtft.p99),
        r.path === 'direct' ? '–' : `${ms(r.probeTtft.p50 - directOf(r).probeTtft.p50)} / ${ms(r.probeTtft.p99 - directOf(r).probeTtft.p99)}`,
        ms(r.interToken.p99),
        r.relayedTokensPerSecond.toFixed(0),
        ms(r.plateauCores),
        r.path === 'direct' ? '–' : ms(cpuUsPerRelayedToken(r), 0),
        `${(r.rssBefore / 1e6).toFixed(0)} → ${(r.rssPeak / 1e6).toFixed(0)}`,
        `${ms(r.simCores)} + ${ms(r.driverCores)}`,
        ms(r.machineNsPerOp, 1),
      ]),
    ),
  ].join('\n');
  return { markdown, data: { shape, runs } };
}

async function main(): Promise<void> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const log = progressLogger(started);
  const machine = machineInfo();
  const workDir = join(repoRoot, '.tmp', `relay-floor-${startedAt.replace(/[:.]/g, '-')}`);
  mkdirSync(workDir, { recursive: true });
  const ctx: BenchContext = { quick: false, runtime: 'dist', cpuProf: false, workDir, resultsDir: join(repoRoot, 'bench/results'), log };
  log(`relay floor: ${[...parts].join(', ')}; ${machine.cores} × ${machine.cpuModel}; load average ${machine.loadAverage.join(' / ')}`);
  if (!values['no-build']) {
    buildDist(log);
  }
  const stack = new BenchStack(ctx);
  const relays: BareRelay[] = [];
  const sections: Record<string, { markdown: string; data: unknown }> = {};
  const stopSignal = (): void => {
    void Promise.all([stack.close(), ...relays.map((r) => r.stop())]).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopSignal);
  process.once('SIGTERM', stopSignal);
  try {
    if (parts.has('non-streamed')) sections.nonStreamed = await nonStreamed(ctx, stack, relays);
    if (parts.has('streaming')) sections.streaming = await streaming(ctx, stack, relays);
  } finally {
    await Promise.all(relays.map((r) => r.stop()));
    await stack.close();
    rmSync(workDir, { recursive: true, force: true });
  }
  const file = join(ctx.resultsDir, `relay-floor-${startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt, command: `npx tsx bench/relay-floor.ts ${process.argv.slice(2).join(' ')}`.trim(), machine, sections }, null, 2)}\n`);
  process.stdout.write(`\n## Relay floor (${startedAt}; ${machineLine(machine)})\n\n${Object.values(sections).map((s) => s.markdown).join('\n\n')}\n`);
  log(`wrote ${file} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err: unknown) => {
  process.stderr.write(`relay-floor failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
