/**
 * The public models the gateway serves and whether each may take traffic.
 *
 * A model takes traffic only when its Triton target answered ServerReady, Triton reports the
 * model ready, its schema was read (ModelConfig) and its warm-up request passed. A model that
 * fails any step stays out and is retried with exponential backoff until it passes. With no
 * models configured, the ready LLM models of each target are discovered and served under their
 * own names, and each target is listed again now and then so models loaded later join.
 */
import type { Logger } from 'pino';
import { configSchema, type GatewayConfig, type ModelConfig } from '../config.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { ModelSchema } from '../triton/types.js';
import type { Upstream } from './upstream.js';
import { runWarmup, type WarmupOutcome } from './warmup.js';

export type ModelState = 'pending' | 'ready' | 'warmup_failed' | 'unavailable';

export interface ModelEntry {
  readonly config: ModelConfig;
  readonly upstream: Upstream;
  readonly tritonModel: string;
  /** The Triton version requests and warm-ups pin ('' = Triton's latest); starts as config.version, a rollback changes it. */
  servedVersion: string;
  schema: ModelSchema | undefined;
  state: ModelState;
  lastError: string | undefined;
  lastWarmup: WarmupOutcome | undefined;
  /** Emergency controls (admin API). */
  disabled: boolean;
  forceFallback: boolean;
}

export interface RegistryHooks {
  /** A configured or discovered model joined the registry (before its first warm-up). */
  modelAdded?(entry: ModelEntry): void;
  warmupFinished?(entry: ModelEntry, outcome: WarmupOutcome): void;
  schemaLoaded?(entry: ModelEntry, schema: ModelSchema): void;
  stateChanged?(entry: ModelEntry): void;
  targetHealth?(target: string, up: boolean): void;
}

export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();
  private readonly targetUp = new Map<string, boolean>();
  /** Targets whose last ServerReady was answered `false` (a transport failure is no answer). */
  private readonly targetRefusing = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly backoff = new Map<string, number>();
  /** Single-flight per model: the running prepare, one queued re-run, and one pending retry timer. */
  private readonly inflight = new Map<string, Promise<WarmupOutcome>>();
  private readonly queued = new Map<string, Promise<WarmupOutcome>>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** Consecutive ModelReady calls that failed in transport (not an answer of ready=false). */
  private readonly healthFailures = new Map<string, number>();
  /** Discovery mode: targets listed at least once, and the ones being listed now. */
  private readonly discoveryMode: boolean;
  private readonly discoveredTargets = new Set<string>();
  private readonly discovering = new Set<string>();
  private stopped = false;

  constructor(
    private readonly config: GatewayConfig,
    private readonly upstreams: ReadonlyMap<string, Upstream>,
    private readonly log: Logger,
    private readonly hooks: RegistryHooks = {},
  ) {
    for (const m of config.models) this.add(m);
    this.discoveryMode = config.models.length === 0;
  }

  /** Configured models, or one target listed: a down target must not hold the pod out of the Service. */
  private get discovered(): boolean {
    return !this.discoveryMode || this.discoveredTargets.size > 0;
  }

  get(name: string): ModelEntry | undefined {
    return this.entries.get(name);
  }

  /** The model, or a 404 `model_not_found` naming `param` (the request field that named it). */
  require(name: string, param = 'model'): ModelEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new GatewayError('model_not_found', `The model '${name}' does not exist`, { param });
    return entry;
  }

  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  isTargetUp(target: string): boolean {
    return this.targetUp.get(target) === true;
  }

  /**
   * Whether the target answered its last ServerReady with `false` (starting, shutting down):
   * routing skips its models then, where it sent each request there to be refused and retried.
   * A failed check is not enough: one transport blip must not move a target's traffic away.
   */
  isTargetRefusing(target: string): boolean {
    return this.targetRefusing.has(target);
  }

  targets(): Array<{ name: string; up: boolean }> {
    return [...this.upstreams.keys()].map((name) => ({ name, up: this.isTargetUp(name) }));
  }

  /**
   * Strict, for people: discovery done, every target up, every model ready. The reasons name a
   * model's state, not its last error: /readyz answers without a token, and that error is
   * Triton's text (its addresses, repository paths); /debug/diagnostics has it.
   */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.discovered) reasons.push('models not discovered yet');
    for (const name of this.upstreams.keys()) {
      if (!this.isTargetUp(name)) reasons.push(`target ${name} not ready`);
      else if (this.discoveryMode && this.discovered && !this.discoveredTargets.has(name)) reasons.push(`models of target ${name} not discovered yet`);
    }
    for (const e of this.entries.values()) {
      if (e.state !== 'ready') reasons.push(`model ${e.config.name} ${e.state}`);
    }
    if (this.discovered && this.entries.size === 0) reasons.push('no models to serve');
    return { ready: reasons.length === 0, reasons };
  }

  /**
   * Whether this replica can take traffic at all (the readiness probe): discovery done, one
   * target up, and one public model servable by itself or through its fallbacks. Every replica
   * warms up against the same Triton, so gating on every model (the strict view) would take all
   * of them out of the Service for one bad model. `degraded` lists what the strict view would.
   */
  podReadiness(): { ready: boolean; reasons: string[]; degraded: string[] } {
    const strict = this.readiness().reasons;
    const blocking: string[] = [];
    if (!this.discovered) blocking.push('models not discovered yet');
    else if (![...this.upstreams.keys()].some((t) => this.isTargetUp(t))) blocking.push('no Triton target is ready');
    else if (![...this.entries.values()].some((e) => this.servable(e))) blocking.push('no model can serve, directly or through a fallback');
    if (blocking.length > 0) return { ready: false, reasons: [...blocking, ...strict.filter((r) => !blocking.includes(r))], degraded: [] };
    return { ready: true, reasons: [], degraded: strict };
  }

  /** Some route of the model's chain would be tried and could answer (as GenerationRouter walks it). */
  private servable(entry: ModelEntry): boolean {
    const routable = (route: ModelEntry, primary: boolean): boolean =>
      !route.disabled && !(primary && route.forceFallback) && route.state === 'ready' && route.schema !== undefined && this.isTargetUp(route.upstream.name);
    if (routable(entry, true)) return true;
    return entry.config.fallbacks.some((name) => {
      const fallback = this.entries.get(name);
      return fallback !== undefined && fallback !== entry && routable(fallback, false);
    });
  }

  start(): void {
    for (const name of this.upstreams.keys()) void this.checkTarget(name);
    if (this.discoveryMode) {
      for (const name of this.upstreams.keys()) void this.discoverTarget(name);
      // Triton may load models later (explicit model control, a restart with a new set): list again now and then.
      this.every(this.config.triton.healthIntervalMs * REDISCOVER_EVERY_SWEEPS, async () => {
        for (const name of this.upstreams.keys()) if (this.isTargetUp(name)) void this.discoverTarget(name);
      });
    }
    for (const e of this.entries.values()) void this.prepare(e);
    this.every(this.config.triton.healthIntervalMs, () => this.healthSweep());
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.retryTimers.clear();
  }

  /**
   * Runs the warm-up again (admin API, engine poll, rollback); resolves with its outcome. A run
   * already in flight may predate a new pin, so this queues one run after it; callers that come
   * while that run is queued share it. Never more than one run and one retry timer per model.
   */
  async rewarm(name: string): Promise<WarmupOutcome> {
    const entry = this.require(name);
    const running = this.inflight.get(name);
    if (!running) return this.prepare(entry, true);
    let next = this.queued.get(name);
    if (!next) {
      next = running.catch(() => undefined).then(() => {
        this.queued.delete(name);
        return this.prepare(entry, true);
      });
      this.queued.set(name, next);
    }
    return next;
  }

  private add(m: ModelConfig): ModelEntry {
    const targetName = m.target ?? this.config.triton.targets[0]!.name;
    const upstream = this.upstreams.get(targetName);
    if (!upstream) throw new Error(`model ${m.name}: no upstream for target ${targetName}`);
    const entry: ModelEntry = {
      config: m,
      upstream,
      tritonModel: m.tritonModel ?? m.name,
      servedVersion: m.version,
      schema: undefined,
      state: 'pending',
      lastError: undefined,
      lastWarmup: undefined,
      disabled: false,
      forceFallback: false,
    };
    this.entries.set(m.name, entry);
    this.hooks.modelAdded?.(entry);
    return entry;
  }

  /** Lists one target and adds its new models; until the first pass passes, retries with its own backoff. */
  private async discoverTarget(targetName: string): Promise<void> {
    if (this.stopped || this.discovering.has(targetName)) return;
    this.discovering.add(targetName);
    const key = `discovery:${targetName}`;
    try {
      for (const schema of await this.upstreams.get(targetName)!.listLlmModels()) {
        if (this.entries.has(schema.name)) continue;
        // Parse through the schema so discovered models get the same defaults as configured ones.
        const parsed = configSchema.parse({
          triton: { targets: this.config.triton.targets },
          models: [{ name: schema.name, target: targetName }],
        }).models[0]!;
        const entry = this.add(parsed);
        this.log.info({ model: schema.name, target: targetName, flavour: schema.flavour }, 'discovered model');
        void this.prepare(entry);
      }
      this.discoveredTargets.add(targetName);
      this.backoff.delete(key);
    } catch (err) {
      // After the first pass, the periodic listing and the target's down->up transition retry it.
      if (!this.discoveredTargets.has(targetName)) {
        this.log.warn({ target: targetName, err: describe(err) }, 'model discovery failed; retrying');
        this.after(this.nextBackoff(key), () => this.discoverTarget(targetName));
      }
    } finally {
      this.discovering.delete(targetName);
    }
  }

  /**
   * Joins the run in flight, if any; otherwise starts one, replacing a pending retry. `asked`: a
   * warm-up someone asked for (rewarm), whose refusal before it could run is reported too.
   */
  private prepare(entry: ModelEntry, asked = false): Promise<WarmupOutcome> {
    const name = entry.config.name;
    const running = this.inflight.get(name);
    if (running) return running;
    this.cancelRetry(name);
    const run = this.runPrepare(entry, asked).finally(() => this.inflight.delete(name));
    this.inflight.set(name, run);
    return run;
  }

  private async runPrepare(entry: ModelEntry, asked: boolean): Promise<WarmupOutcome> {
    const name = entry.config.name;
    let warmedUp = false;
    try {
      const ready = await entry.upstream.modelReady(entry.tritonModel, entry.servedVersion || undefined);
      if (!ready) throw new GatewayError('model_not_ready', `Triton reports ${entry.tritonModel} not ready`);
      const schema = await entry.upstream.describeModel(entry.tritonModel, entry.servedVersion || undefined);
      if (entry.config.flavour) schema.flavour = entry.config.flavour;
      entry.schema = schema;
      this.hooks.schemaLoaded?.(entry, schema);
      const outcome = await runWarmup(entry);
      warmedUp = true;
      entry.lastWarmup = outcome;
      this.hooks.warmupFinished?.(entry, outcome);
      if (!outcome.passed) throw new GatewayError('model_not_ready', `warm-up failed: ${outcome.reason}`);
      this.setState(entry, 'ready', undefined);
      this.backoff.delete(name);
      // Its ModelReady just answered: failed health checks before this warm-up no longer count.
      this.healthFailures.delete(name);
      return outcome;
    } catch (err) {
      const message = describe(err);
      this.setState(entry, entry.lastWarmup && !entry.lastWarmup.passed ? 'warmup_failed' : 'unavailable', message);
      this.retryLater(entry, this.nextBackoff(name));
      if (warmedUp) return entry.lastWarmup!;
      const refused: WarmupOutcome = { passed: false, reason: message, durationMs: 0 };
      // A warm-up an operator or a rollback asked for, that Triton refused before it could run
      // (the pinned version not ready after a restart): the audit trail says it failed, and why.
      // Not for the registry's own retries, which would record every outage at every start-up.
      if (asked) this.hooks.warmupFinished?.(entry, refused);
      return entry.lastWarmup && !entry.lastWarmup.passed ? entry.lastWarmup : refused;
    }
  }

  private async healthSweep(): Promise<void> {
    await Promise.all([...this.upstreams.keys()].map((t) => this.checkTarget(t)));
    for (const entry of this.entries.values()) {
      if (entry.state !== 'ready' || this.inflight.has(entry.config.name)) continue;
      const name = entry.config.name;
      let ready: boolean;
      try {
        ready = await entry.upstream.modelReady(entry.tritonModel, entry.servedVersion || undefined);
      } catch (err) {
        // Triton saying it has no such model, or no version of it loaded (NOT_FOUND, as it
        // answers an unloaded model), is its answer: out at once, as for ready=false.
        if (isGatewayError(err) && err.code === 'model_not_ready') {
          this.leaveService(entry, err);
          continue;
        }
        // A deadline or connection reset is no answer: only a run of them takes the model out.
        const failures = (this.healthFailures.get(name) ?? 0) + 1;
        if (failures < HEALTH_FAILURES_TO_LEAVE) this.healthFailures.set(name, failures);
        else this.leaveService(entry, err);
        continue;
      }
      this.healthFailures.delete(name);
      if (!ready) this.leaveService(entry, new Error('Triton reports the model not ready'));
    }
  }

  private leaveService(entry: ModelEntry, err: unknown): void {
    const name = entry.config.name;
    this.healthFailures.delete(name);
    this.log.warn({ model: name, err: describe(err) }, 'model left service');
    // A warm-up may have started while ModelReady was on the wire; it decides the state.
    if (this.inflight.has(name)) return;
    this.setState(entry, 'unavailable', describe(err));
    this.retryLater(entry, this.nextBackoff(name));
  }

  private async checkTarget(name: string): Promise<void> {
    let up = false;
    let answered = false;
    try {
      up = await this.upstreams.get(name)!.serverReady();
      answered = true;
    } catch {
      up = false;
    }
    if (answered && !up) this.targetRefusing.add(name);
    else this.targetRefusing.delete(name);
    const was = this.targetUp.get(name);
    if (was !== up) {
      this.log[up ? 'info' : 'warn']({ target: name, up }, up ? 'Triton target ready' : 'Triton target not ready');
    }
    this.targetUp.set(name, up);
    this.hooks.targetHealth?.(name, up);
    if (was === false && up) this.targetRecovered(name);
  }

  /**
   * A target came back (a Triton restart): its models' backoff may be at the cap, so retry the
   * ones not ready now, after a small jitter so replicas do not re-warm in lockstep.
   */
  private targetRecovered(target: string): void {
    if (this.discoveryMode) void this.discoverTarget(target);
    const jitterMs = Math.min(1_000, this.config.triton.healthIntervalMs);
    for (const entry of this.entries.values()) {
      if (entry.upstream.name !== target || entry.state === 'ready') continue;
      this.backoff.delete(entry.config.name);
      if (!this.inflight.has(entry.config.name)) this.retryLater(entry, Math.round(Math.random() * jitterMs));
    }
  }

  /** The one retry timer of a model: a new one replaces the pending one. */
  private retryLater(entry: ModelEntry, ms: number): void {
    const name = entry.config.name;
    this.cancelRetry(name);
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.retryTimers.get(name) === t) this.retryTimers.delete(name);
      void this.prepare(entry);
    }, ms);
    t.unref();
    this.timers.add(t);
    this.retryTimers.set(name, t);
  }

  private cancelRetry(name: string): void {
    const t = this.retryTimers.get(name);
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(t);
    this.retryTimers.delete(name);
  }

  private setState(entry: ModelEntry, state: ModelState, error: string | undefined): void {
    const changed = entry.state !== state;
    entry.state = state;
    entry.lastError = error;
    if (changed) {
      this.log[state === 'ready' ? 'info' : 'warn']({ model: entry.config.name, state, error }, 'model state changed');
      this.hooks.stateChanged?.(entry);
    }
  }

  private nextBackoff(key: string): number {
    const { warmupRetryMinMs, warmupRetryMaxMs } = this.config.triton;
    const current = this.backoff.get(key) ?? warmupRetryMinMs / 2;
    const next = Math.min(warmupRetryMaxMs, current * 2);
    this.backoff.set(key, next);
    // Equal jitter (half the delay fixed, half random) keeps replicas from re-warming in lockstep after a Triton restart.
    return Math.round(next / 2 + Math.random() * (next / 2));
  }

  private after(ms: number, fn: () => unknown): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private every(ms: number, fn: () => Promise<unknown>): void {
    const tick = (): void => {
      this.after(ms, async () => {
        await fn().catch(() => undefined);
        tick();
      });
    };
    tick();
  }
}

/** In discovery mode, each target is listed again every this many health intervals. */
const REDISCOVER_EVERY_SWEEPS = 6;
/** Consecutive transport failures of ModelReady that take a ready model out of traffic. */
const HEALTH_FAILURES_TO_LEAVE = 3;

function describe(err: unknown): string {
  if (isGatewayError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
