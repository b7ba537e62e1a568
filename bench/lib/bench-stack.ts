/**
 * The processes the scenarios share, started on first use and stopped as soon as no later
 * scenario needs them (an idle gateway still takes a little CPU from the one being measured).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { profileMarkdown, readProfile, summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { directClient, type DirectClient } from './direct-client.js';
import { completionClient, type CompletionClient } from './gateway-client.js';
import { startOtlpSink, type OtlpSink } from './otlp-sink.js';
import { benchModel, startGateway, startSim, type GatewayProcess, type SimProcess } from './processes.js';
import { startSpeedProbe, type SpeedProbe } from './speed-probe.js';
import { warmUp } from './warm-up.js';

export const tritonModel = 'llama-3-8b-trtllm';
/** Tokens per non-streamed completion. */
export const nonStreamedTokens = 16;

export interface GatewayUnderTest {
  process: GatewayProcess;
  client: CompletionClient;
  /** From spawn to the end of start-up and warm-up: where its CPU profile starts to count. */
  measuredFromMs: number;
  /** performance.now() just before the spawn, so that a scenario can move measuredFromMs later. */
  spawnedAt: number;
}

export interface SimUnderTest {
  process: SimProcess;
  direct: DirectClient;
}

export interface ProfileRecord {
  label: string;
  file: string;
  summary: ProfileSummary;
  markdown: string;
}

export class BenchStack {
  private sink: Promise<OtlpSink> | undefined;
  private probe: Promise<SpeedProbe> | undefined;
  private readonly sims = new Map<string, SimUnderTest>();
  private readonly gateways = new Map<string, GatewayUnderTest>();
  readonly profiles: ProfileRecord[] = [];

  constructor(private readonly ctx: BenchContext) {}

  /** The OTLP receiver, a child process of its own (its CPU does not land on the load generator). */
  otlpSink(): Promise<OtlpSink> {
    this.sink ??= (async () => {
      const t0 = performance.now();
      const sink = await startOtlpSink();
      this.ctx.log(`OTLP receiver ready (pid ${sink.pid}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return sink;
    })();
    return this.sink;
  }

  /** The machine-speed probe (speed-probe.ts), started on first use and kept for the whole run. */
  speedProbe(): Promise<SpeedProbe> {
    this.probe ??= startSpeedProbe();
    return this.probe;
  }

  /** A simulator, by latency: `zero` (0 ms) or `stream` (first token and each token after it at `tpotMs`). */
  async sim(kind: 'zero' | 'stream', opts: { tpotMs?: number; streamTokens?: number } = {}): Promise<SimUnderTest> {
    const existing = this.sims.get(kind);
    if (existing) return existing;
    const t0 = performance.now();
    const latency = kind === 'zero' ? 0 : (opts.tpotMs ?? 50);
    const process = await startSim({ runtime: this.ctx.runtime, workDir: this.ctx.workDir, ttftMs: latency, tpotMs: latency });
    const direct = await directClient(process.grpcAddress, tritonModel, { maxTokens: nonStreamedTokens, streamTokens: opts.streamTokens ?? 128 });
    const sim = { process, direct };
    this.sims.set(kind, sim);
    this.ctx.log(`simulator '${kind}' ready (pid ${process.pid}, ${latency} ms/token) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // The zero-latency simulator serves the non-streamed scenarios: its direct path is measured
    // as the floor, so it is brought to the same steady state as the gateways (warm-up.ts).
    if (kind === 'zero') await warmUp(this.ctx, 'the direct path', (i) => direct.complete(i));
    return sim;
  }

  /** A gateway in front of the `simKind` simulator, with observability on or off. */
  async gateway(label: string, simKind: 'zero' | 'stream', observability: 'on' | 'off', opts: { streamTokens?: number; multiplex?: boolean } = {}): Promise<GatewayUnderTest> {
    const existing = this.gateways.get(label);
    if (existing) return existing;
    const sim = this.sims.get(simKind);
    if (!sim) throw new Error(`start the '${simKind}' simulator first`);
    const t0 = performance.now();
    const process = await startGateway({
      runtime: this.ctx.runtime,
      workDir: this.ctx.workDir,
      label,
      sim: sim.process,
      observability,
      otlpEndpoint: observability === 'on' ? (await this.otlpSink()).endpoint : undefined,
      cpuProfDir: this.ctx.cpuProf ? join(this.ctx.workDir, `profile-${label}`) : undefined,
      distDir: this.ctx.gatewayDist,
      multiplex: opts.multiplex,
    });
    const client = completionClient(process.url, benchModel, { maxTokens: nonStreamedTokens, streamTokens: opts.streamTokens ?? 128 });
    const gw: GatewayUnderTest = { process, client, measuredFromMs: process.readyAfterMs, spawnedAt: t0 };
    this.gateways.set(label, gw);
    this.ctx.log(`gateway '${label}' ready (pid ${process.pid}, observability ${observability}${opts.multiplex ? ', shared streams' : ''}, ${this.ctx.runtime}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (simKind === 'zero') {
      await warmUp(this.ctx, `gateway '${label}'`, (i) => client.complete(i));
      gw.measuredFromMs = performance.now() - t0;
    }
    return gw;
  }

  /**
   * Its CPU profile counts from now on: for a scenario that warms the gateway and measures the
   * direct path before it, so that the profile is the measured phase and not their idle time.
   */
  profileFromNow(gw: GatewayUnderTest): void {
    gw.measuredFromMs = performance.now() - gw.spawnedAt;
  }

  async stopGateway(label: string): Promise<void> {
    const gw = this.gateways.get(label);
    if (!gw) return;
    this.gateways.delete(label);
    gw.client.close();
    await gw.process.stop();
    const dir = gw.process.cpuProfDir;
    if (dir) {
      // The main thread's profile is the big one (tsx adds a small one for its loader thread).
      const file = readdirSync(dir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(dir, f))
        .sort((a, b) => statSync(b).size - statSync(a).size)[0];
      if (file) {
        // Skip start-up, module loading and warm-up: the hot path is what matters.
        const summary = summarizeProfile(readProfile(file), { sinceMs: gw.measuredFromMs + 500, top: 30 });
        const markdown = profileMarkdown(summary, `CPU profile of gateway '${label}'`);
        this.profiles.push({ label, file, summary, markdown });
        this.ctx.log(`profile of '${label}': ${file}`);
        process.stderr.write(`\n${markdown}\n`);
      }
    }
  }

  async stopSim(kind: 'zero' | 'stream'): Promise<void> {
    const sim = this.sims.get(kind);
    if (!sim) return;
    this.sims.delete(kind);
    sim.direct.close();
    await sim.process.stop();
  }

  async close(): Promise<void> {
    for (const label of [...this.gateways.keys()]) await this.stopGateway(label).catch(() => undefined);
    for (const kind of [...this.sims.keys()]) await this.stopSim(kind as 'zero' | 'stream').catch(() => undefined);
    const sink = await this.sink?.catch(() => undefined);
    await sink?.close();
    const probe = await this.probe?.catch(() => undefined);
    await probe?.close();
  }
}
