/**
 * The public models the gateway serves and whether each may take traffic.
 *
 * A model takes traffic only when its Triton target answered ServerReady, Triton reports the
 * model ready, its schema was read (ModelConfig) and its warm-up request passed. A model that
 * fails any step stays out and is retried with exponential backoff until it passes. With no
 * models configured, the ready LLM models of each target are discovered and served under their
 * own names.
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
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly backoff = new Map<string, number>();
  private discovered = false;
  private stopped = false;

  constructor(
    private readonly config: GatewayConfig,
    private readonly upstreams: ReadonlyMap<string, Upstream>,
    private readonly log: Logger,
    private readonly hooks: RegistryHooks = {},
  ) {
    for (const m of config.models) this.add(m);
    this.discovered = config.models.length > 0;
  }

  get(name: string): ModelEntry | undefined {
    return this.entries.get(name);
  }

  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  isTargetUp(target: string): boolean {
    return this.targetUp.get(target) === true;
  }

  targets(): Array<{ name: string; up: boolean }> {
    return [...this.upstreams.keys()].map((name) => ({ name, up: this.isTargetUp(name) }));
  }

  /** Strict, for people: discovery done, every target up, every model ready. */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.discovered) reasons.push('models not discovered yet');
    for (const name of this.upstreams.keys()) if (!this.isTargetUp(name)) reasons.push(`target ${name} not ready`);
    for (const e of this.entries.values()) {
      if (e.state !== 'ready') reasons.push(`model ${e.config.name} ${e.state}${e.lastError ? `: ${e.lastError}` : ''}`);
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
    if (!this.discovered) void this.discover();
    for (const e of this.entries.values()) void this.prepare(e);
    this.every(this.config.triton.healthIntervalMs, () => this.healthSweep());
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Runs the warm-up again now (admin API); resolves with its outcome. */
  async rewarm(name: string): Promise<WarmupOutcome> {
    const entry = this.entries.get(name);
    if (!entry) throw new GatewayError('model_not_found', `The model '${name}' does not exist`, { param: 'model' });
    return this.prepare(entry);
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

  private async discover(): Promise<void> {
    if (this.stopped) return;
    try {
      for (const [targetName, upstream] of this.upstreams) {
        for (const schema of await upstream.listLlmModels()) {
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
      }
      this.discovered = true;
    } catch (err) {
      this.log.warn({ err: describe(err) }, 'model discovery failed; retrying');
      this.after(this.nextBackoff('discovery'), () => this.discover());
    }
  }

  private async prepare(entry: ModelEntry): Promise<WarmupOutcome> {
    const name = entry.config.name;
    try {
      const ready = await entry.upstream.modelReady(entry.tritonModel, entry.servedVersion || undefined);
      if (!ready) throw new GatewayError('model_not_ready', `Triton reports ${entry.tritonModel} not ready`);
      const schema = await entry.upstream.describeModel(entry.tritonModel, entry.servedVersion || undefined);
      if (entry.config.flavour) schema.flavour = entry.config.flavour;
      entry.schema = schema;
      this.hooks.schemaLoaded?.(entry, schema);
      const outcome = await runWarmup(entry);
      entry.lastWarmup = outcome;
      this.hooks.warmupFinished?.(entry, outcome);
      if (!outcome.passed) throw new GatewayError('model_not_ready', `warm-up failed: ${outcome.reason}`);
      this.setState(entry, 'ready', undefined);
      this.backoff.delete(name);
      return outcome;
    } catch (err) {
      const message = describe(err);
      this.setState(entry, entry.lastWarmup && !entry.lastWarmup.passed ? 'warmup_failed' : 'unavailable', message);
      if (!this.stopped) this.after(this.nextBackoff(name), () => this.prepare(entry));
      return entry.lastWarmup && !entry.lastWarmup.passed ? entry.lastWarmup : { passed: false, reason: message, durationMs: 0 };
    }
  }

  private async healthSweep(): Promise<void> {
    await Promise.all([...this.upstreams.keys()].map((t) => this.checkTarget(t)));
    for (const entry of this.entries.values()) {
      if (entry.state !== 'ready') continue;
      try {
        const ready = await entry.upstream.modelReady(entry.tritonModel, entry.servedVersion || undefined);
        if (!ready) throw new Error('Triton reports the model not ready');
      } catch (err) {
        this.log.warn({ model: entry.config.name, err: describe(err) }, 'model left service');
        this.setState(entry, 'unavailable', describe(err));
        this.after(this.nextBackoff(entry.config.name), () => this.prepare(entry));
      }
    }
  }

  private async checkTarget(name: string): Promise<void> {
    let up = false;
    try {
      up = await this.upstreams.get(name)!.serverReady();
    } catch {
      up = false;
    }
    if (this.targetUp.get(name) !== up) {
      this.log[up ? 'info' : 'warn']({ target: name, up }, up ? 'Triton target ready' : 'Triton target not ready');
    }
    this.targetUp.set(name, up);
    this.hooks.targetHealth?.(name, up);
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
    // Full jitter keeps replicas from re-warming in lockstep after a Triton restart.
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

function describe(err: unknown): string {
  if (isGatewayError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
