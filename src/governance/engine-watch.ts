/**
 * Engine lifecycle events from the model registry's hooks, plus a slow poll that notices a new
 * engine Triton started serving on its own (a new version loaded, a new hash in the config):
 *  - schemaLoaded (every describe: start-up, retries, re-warm-ups) → `llm_engine_published` the
 *    first time a (version, engine hash) is seen for the model;
 *  - warmupFinished → `llm_warmup_completed` / `llm_warmup_failed` (a failure that repeats with
 *    the same reason while the registry retries is recorded once);
 *  - the poll re-describes each ready model and, when the engine differs from the one the gateway
 *    described last, runs the registry's re-warm-up, which fires the two hooks above: publish (if
 *    never seen) → warm-up → traffic (and the completion log line names the new engine).
 */
import type { ModelEntry, ModelRegistry, RegistryHooks } from '../inference/model-registry.js';
import type { WarmupOutcome } from '../inference/warmup.js';
import type { ModelSchema } from '../triton/types.js';
import { engineManifest, schemaVersions, servingVersion, type EngineTracker } from './engine-identity.js';
import type { EngineManifest } from './events.js';
import type { GovernanceRecorder, RecorderLog } from './recorder.js';

export class EngineWatch {
  private readonly lastFailure = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly recorder: GovernanceRecorder,
    private readonly tracker: EngineTracker,
    private readonly log: RecorderLog,
    /** Models a rollback is working on: the poll leaves them alone. */
    private readonly busy: ReadonlySet<string>,
  ) {}

  registryHooks(): Pick<RegistryHooks, 'schemaLoaded' | 'warmupFinished'> {
    return {
      schemaLoaded: (entry, schema) => this.schemaLoaded(entry, schema),
      warmupFinished: (entry, outcome) => this.warmupFinished(entry, outcome),
    };
  }

  schemaLoaded(entry: ModelEntry, schema: ModelSchema): void {
    const engine = engineManifest(entry, schema);
    if (this.tracker.isNew(engine)) void this.publish(engine);
  }

  /** Records a new engine as published, with the one it replaces; also used by a roll forward to a new engine. */
  publish(engine: EngineManifest, previous: EngineManifest | null = this.tracker.current(engine.model) ?? null): Promise<void> {
    this.tracker.remember(engine);
    const recorded = this.recorder.record({ event: 'llm_engine_published', model: engine.model, engine, previous });
    this.fire(recorded);
    // Settles once the event is in the log (or its failure logged), for callers that order events after it.
    return recorded.then(
      () => undefined,
      () => undefined,
    );
  }

  warmupFinished(entry: ModelEntry, outcome: WarmupOutcome): void {
    this.fire(this.recordWarmup(entry, entry.schema, outcome));
  }

  /** Also used by the rollback for the candidate version's warm-up, which runs outside the registry. */
  recordWarmup(entry: Pick<ModelEntry, 'config' | 'tritonModel' | 'upstream' | 'servedVersion'>, schema: ModelSchema | undefined, outcome: WarmupOutcome, version?: string) {
    const model = entry.config.name;
    const subject = version === undefined ? entry : { ...entry, servedVersion: version };
    const engine = engineManifest(subject, schema);
    const common = {
      model,
      triton_model: entry.tritonModel,
      version: servingVersion(subject, schema),
      engine_hash: engine.engine_hash,
      schema_versions: schemaVersions(schema),
      duration_ms: Math.round(outcome.durationMs * 1000) / 1000,
      latency_budget_ms: entry.config.warmup === false ? null : entry.config.warmup.latencyBudgetMs,
    };
    if (outcome.passed) {
      this.lastFailure.delete(model);
      return this.recorder.record({ event: 'llm_warmup_completed', ...common, completion_tokens: outcome.completionTokens ?? null });
    }
    const reason = outcome.reason ?? 'unknown';
    // A rollback's candidate (an explicit version) failing is an operator's attempt: each one is
    // recorded, and none counts toward the registry's deduplication of its own retries.
    if (version !== undefined) return this.recorder.record({ event: 'llm_warmup_failed', ...common, reason });
    // Durations inside the reason change on every retry; the failure is the same one.
    const signature = `${common.version}|${reason.replace(/\d+(\.\d+)?/g, '#')}`;
    if (this.lastFailure.get(model) === signature) return Promise.resolve(undefined);
    this.lastFailure.set(model, signature);
    return this.recorder.record({ event: 'llm_warmup_failed', ...common, reason });
  }

  startPolling(registry: ModelRegistry, intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.poll(registry), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over the ready models. */
  async poll(registry: ModelRegistry): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const entry of registry.list()) {
        if (entry.state !== 'ready' || this.busy.has(entry.config.name)) continue;
        let schema: ModelSchema;
        try {
          schema = await entry.upstream.describeModel(entry.tritonModel, entry.servedVersion || undefined);
        } catch {
          // The registry's health sweep owns "model not ready"; the poll only looks for new engines.
          continue;
        }
        const engine = engineManifest(entry, schema);
        const known = engineManifest(entry, entry.schema);
        if (engine.version === known.version && engine.engine_hash === known.engine_hash) continue;
        this.log.info({ model: entry.config.name, version: engine.version, engine_hash: engine.engine_hash, was: known.version }, 'engine changed on Triton; warming it up');
        await registry.rewarm(entry.config.name).catch(() => undefined);
      }
    } finally {
      this.polling = false;
    }
  }

  private fire(p: Promise<unknown>): void {
    p.catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'recording a governance event failed'));
  }
}
