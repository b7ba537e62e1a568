/**
 * Rolling a model back to an earlier Triton version, make-before-break:
 *  0. Triton is asked which versions are ready now. The registry's cached schema is not enough:
 *     a rollback changes Triton for every replica, and the runbooks run it on each pod in turn, so
 *     on the second pod the cache still names a version the first pod already unloaded;
 *  1. RepositoryModelLoad with a config override whose version_policy pins the versions Triton
 *     serves now plus the target (`{"version_policy":{"specific":{"versions":[2,1]}}}`), so the
 *     current version keeps serving while the target loads (explicit model-control mode only);
 *  2. a warm-up request pinned to the target version; if it fails, the original version policy
 *     is loaded again and nothing else changed;
 *  3. the gateway pins its requests to the target (entry.servedVersion) and the registry re-warms
 *     the model through its normal path (which records llm_warmup_completed);
 *  4. the other versions are unloaded (a load pinning only the target);
 *  5. only then `llm_rollback_completed`, with the previous and restored manifests and the actor.
 * When Triton already serves only the target (another replica rolled it back), steps 1, 2 and 4
 * are skipped: this replica pins the target, re-warms and records the event with
 * `already_on_target`. That makes running the rollback on every replica safe and idempotent.
 * The gateway only ever pins a version Triton reported ready. A failure at any step before 5
 * leaves this replica pinned to the version that was serving, and says whether that version still
 * serves: it does unless Triton itself was unavailable (409 when Triton refused, 503 when it could
 * not be reached, was unavailable or timed out). Governance records each failure as
 * `llm_rollback_failed`.
 *
 * Against a real Triton, Triton uses the override instead of config.pbtxt: pass the model's full
 * config as `config` (JSON ModelConfig) and only its version_policy is replaced.
 */
import type { ModelEntry, ModelRegistry } from '../inference/model-registry.js';
import { runWarmup } from '../inference/warmup.js';
import type { ModelSchema } from '../triton/types.js';
import { isGatewayError } from '../errors.js';
import { engineManifest, type EngineTracker } from './engine-identity.js';
import type { EngineWatch } from './engine-watch.js';
import { isRollForward, type EventOf } from './events.js';
import type { GovernanceRecorder, RecorderLog } from './recorder.js';

export interface RollbackRequest {
  model: string;
  version: string;
  actor: string;
  reason?: string;
  /** A full ModelConfig (JSON) to load with; its version_policy is replaced. */
  config?: Record<string, unknown>;
}

export type RollbackStage = 'validate' | 'load' | 'warmup' | 'activate';

export class RollbackError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly stage: RollbackStage,
    /** The version still serving after the failure. */
    readonly serving: string | null = null,
  ) {
    super(message);
    this.name = 'RollbackError';
  }

  /** The error code the admin API answers with (and the failure event records). */
  get answerCode(): string {
    return this.status === 503 ? 'rollback_upstream_unavailable' : this.code;
  }
}

export interface RollbackDeps {
  registry: ModelRegistry;
  recorder: GovernanceRecorder;
  tracker: EngineTracker;
  watch: EngineWatch;
  log: RecorderLog;
  /** Models with a rollback in progress (shared with the engine poll). */
  busy: Set<string>;
}

function describe(err: unknown): string {
  if (isGatewayError(err)) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A failed rollback changed nothing on this replica: the previous version stays pinned. When
 * Triton answered and refused (the version is not in the repository, explicit mode is off, the target fails its
 * warm-up) that is a conflict with the deployment's state, 409; when Triton could not be reached
 * or timed out, 503, and trying again later may work.
 */
function failureStatus(err: unknown): number {
  if (isGatewayError(err) && /explicit model load/i.test(err.message)) return 409;
  if (isGatewayError(err) && ['upstream_unavailable', 'upstream_timeout', 'upstream_overloaded', 'all_upstreams_unavailable'].includes(err.code)) return 503;
  return 409;
}

function hint(message: string): string {
  return /explicit model load \/ unload is not allowed/i.test(message) ? ' (Triton must run with --model-control-mode=explicit)' : '';
}

function pinning(versions: readonly string[], base: Record<string, unknown> | undefined): Record<string, unknown> {
  const numbers = [...new Set(versions)].map(Number).sort((a, b) => b - a);
  return { ...(base ?? {}), version_policy: { specific: { versions: numbers } } };
}

/**
 * The target's engine on record. Going back, it is restored: it served before, even if this log
 * starts after it did. Going forward to a version newer than the one serving, an engine the log
 * has never seen is a new engine going into service, published like one the poll finds (a roll
 * forward is how an operator ships it when the gateway is pinned), but only once traffic is on it.
 * Noted before the registry's re-warm describes the target, so that describe does not publish it.
 */
function noteTargetEngine(deps: RollbackDeps, entry: ModelEntry, schema: ModelSchema, target: string, from: string | null) {
  const engine = engineManifest({ ...entry, servedVersion: target }, schema, target);
  const before = deps.tracker.current(entry.config.name);
  const forwardToNew = isRollForward(from, target) && deps.tracker.isNew(engine);
  deps.tracker.remember(engine);
  return {
    /** Traffic is on the target. */
    activated: (): Promise<void> => (forwardToNew ? deps.watch.publish(engine, before ?? null) : Promise.resolve()),
    /** The target never served: a new engine goes back to unseen, and the engine before is current again. */
    abandoned: (): void => {
      if (forwardToNew) deps.tracker.forget(engine, before);
    },
  };
}

/** A requested version as Triton reports it ('01' is '1'); anything not a number as it is. */
export function canonicalVersion(version: string): string {
  return /^\d+$/.test(version) ? String(Number(version)) : version;
}

export async function rollbackModel(deps: RollbackDeps, req: RollbackRequest): Promise<EventOf<'llm_rollback_completed'>> {
  const entry = deps.registry.get(req.model);
  if (!entry) throw new RollbackError(404, 'model_not_found', `The model '${req.model}' does not exist`, 'validate');
  if (!/^\d+$/.test(req.version) || Number(req.version) < 1) {
    throw new RollbackError(400, 'invalid_request', `version must be a positive integer version number, got '${req.version}'`, 'validate');
  }
  const upstream = entry.upstream;
  if (!upstream.loadModel) {
    throw new RollbackError(501, 'rollback_unsupported', `Target ${upstream.name} does not support repository control (RepositoryModelLoad)`, 'validate');
  }
  if (deps.busy.has(req.model)) throw new RollbackError(409, 'rollback_in_progress', `A rollback of '${req.model}' is already in progress`, 'validate');
  deps.busy.add(req.model);
  try {
    return await run(deps, entry, req, upstream.loadModel.bind(upstream));
  } finally {
    deps.busy.delete(req.model);
  }
}

const numeric = (versions: readonly string[]): string[] => versions.filter((v) => /^\d+$/.test(v));

function latest(versions: readonly string[]): string | null {
  return versions.reduce<string | null>((best, v) => (best === null || Number(v) > Number(best) ? v : best), null);
}

/** What this replica serves and what Triton has ready when the rollback starts. */
interface Serving {
  /** Triton's description of the model (its latest ready version); undefined when Triton could not be asked. */
  current: ModelSchema | undefined;
  /** The versions Triton reports ready; null when it could not be asked. */
  ready: string[] | null;
  /** The version this replica's requests went to: its pin, else Triton's latest ready version. */
  from: string | null;
  /** The pin that keeps traffic on a ready version while the target loads ('' = Triton's latest). */
  hold: string;
  /** The pin a failed rollback returns to: the one before, unless Triton no longer has that version ready. */
  restoreTo: string;
}

async function readServing(entry: ModelEntry, log: RecorderLog): Promise<Serving> {
  let current: ModelSchema | undefined;
  try {
    current = await entry.upstream.describeModel(entry.tritonModel);
  } catch (err) {
    log.warn({ model: entry.config.name, err: describe(err) }, 'rollback: cannot ask Triton which versions are ready; the pin is left as it is while the target loads');
  }
  const ready = current ? numeric(current.versions) : null;
  const pinned = entry.servedVersion || '';
  // Without Triton's answer, only the cached schema can say what an unpinned replica served.
  const from = pinned || latest(ready ?? numeric(entry.schema?.versions ?? []));
  // A pin Triton no longer has ready (another replica unloaded it) fails every request: move it.
  const stale = pinned !== '' && ready !== null && !ready.includes(pinned);
  const hold = ready !== null && (pinned === '' || stale) ? (latest(ready) ?? pinned) : pinned;
  return { current, ready, from, hold, restoreTo: stale ? hold : pinned };
}

async function run(
  deps: RollbackDeps,
  entry: ModelEntry,
  req: RollbackRequest,
  load: (model: string, options?: { config?: object }) => Promise<void>,
): Promise<EventOf<'llm_rollback_completed'>> {
  const { registry, log } = deps;
  const target = canonicalVersion(req.version);
  const name = entry.config.name;
  const started = Date.now();

  // 0. What serves now: Triton's ready versions, not the cached schema.
  const now = await readServing(entry, log);
  const keep = now.ready ?? numeric(entry.schema?.versions ?? []);
  // The cached schema describes a pinned version; an unpinned replica served Triton's latest, which `current` describes.
  const previous = engineManifest(entry, entry.servedVersion ? (entry.schema ?? now.current) : (now.current ?? entry.schema), now.from);
  const alreadyOnTarget = now.ready !== null && now.ready.length === 1 && now.ready[0] === target;
  const servingAfterFailure = now.restoreTo || latest(keep);
  // What a failure leaves serving: the version before, unless Triton itself was unavailable (not
  // merely slow: a load or a warm-up that timed out leaves the old version serving).
  const stillServingAfter = (err: unknown): string =>
    isGatewayError(err) && (err.code === 'upstream_unavailable' || err.code === 'all_upstreams_unavailable')
      ? `Triton is unavailable, so no version may be serving until it recovers (this replica keeps version ${servingAfterFailure ?? '(unknown)'} pinned)`
      : `version ${servingAfterFailure ?? '(unknown)'} is still serving`;
  log.info(
    { model: name, triton_model: entry.tritonModel, from_version: now.from, to_version: target, triton_ready: now.ready, already_on_target: alreadyOnTarget, actor: req.actor },
    'rollback started',
  );

  const complete = (warmupMs: number, warning: string | null) =>
    deps.recorder.record({
      event: 'llm_rollback_completed',
      model: name,
      from_version: now.from,
      to_version: target,
      previous,
      restored: engineManifest(entry, entry.schema, target),
      actor: req.actor,
      reason: req.reason ?? null,
      warmup_duration_ms: Math.round(warmupMs * 1000) / 1000,
      warning,
      already_on_target: alreadyOnTarget,
    });

  if (alreadyOnTarget) {
    // Another replica (or a Triton redeploy) already rolled Triton back: loading and unloading
    // would change nothing. Pin the target and re-warm, as step 3 does.
    let targetSchema: ModelSchema;
    try {
      targetSchema = await entry.upstream.describeModel(entry.tritonModel, target);
    } catch (err) {
      throw new RollbackError(failureStatus(err), 'rollback_failed', `Version ${target}, the only version Triton has ready, could not be described: ${describe(err)}; nothing was changed`, 'activate', servingAfterFailure);
    }
    if (entry.config.flavour) targetSchema.flavour = entry.config.flavour;
    const noted = noteTargetEngine(deps, entry, targetSchema, target, now.from);
    entry.servedVersion = target;
    const outcome = await registry.rewarm(name);
    if (!outcome.passed) {
      // No other version is ready to go back to; the registry keeps retrying the warm-up.
      noted.abandoned();
      entry.servedVersion = now.restoreTo;
      throw new RollbackError(409, 'rollback_failed', `Triton already serves only version ${target}, but it failed this replica's warm-up (${outcome.reason ?? 'unknown'}); the model is out of traffic here until a warm-up passes`, 'activate', null);
    }
    await noted.activated();
    const event = await complete(outcome.durationMs, null);
    log.info({ model: name, to_version: target, already_on_target: true, ms: Date.now() - started }, 'rollback completed');
    return event;
  }

  // Keep traffic on a version Triton has ready while the target loads: with no pin, Triton's
  // "latest" could become an unwarmed target (a roll forward).
  entry.servedVersion = now.hold;

  // Traffic stays on the version held while the target loaded until Triton serves only what it
  // served before: an unpinned replica's "latest" is the failed target until then (a roll
  // forward), and stays so if the restoring load fails, while the held version is still loaded.
  const restore = async (): Promise<string> => {
    try {
      if (keep.length > 0) await load(entry.tritonModel, { config: pinning(keep, req.config) });
      entry.servedVersion = now.restoreTo;
      return '';
    } catch (err) {
      entry.servedVersion = now.hold;
      return `; restoring the version policy failed too: ${describe(err)}`;
    }
  };

  // 1. Load the target next to what serves now.
  try {
    await load(entry.tritonModel, { config: pinning([...keep, target], req.config) });
  } catch (err) {
    entry.servedVersion = now.restoreTo;
    const message = describe(err);
    throw new RollbackError(failureStatus(err), 'rollback_failed', `Loading version ${target} of ${entry.tritonModel} failed: ${message}${hint(message)}; ${stillServingAfter(err)}`, 'load', servingAfterFailure);
  }

  // 2. Warm up the target version before any traffic goes to it.
  let targetSchema: ModelSchema;
  let warm;
  try {
    targetSchema = await entry.upstream.describeModel(entry.tritonModel, target);
    if (entry.config.flavour) targetSchema.flavour = entry.config.flavour;
    warm = await runWarmup({ config: entry.config, upstream: entry.upstream, schema: targetSchema, servedVersion: target });
  } catch (err) {
    const restored = await restore();
    throw new RollbackError(failureStatus(err), 'rollback_failed', `Version ${target} could not be described after loading: ${describe(err)}; ${stillServingAfter(err)}${restored}`, 'warmup', servingAfterFailure);
  }
  if (!warm.passed) {
    await deps.watch.recordWarmup(entry, targetSchema, warm, target);
    const restored = await restore();
    // A target that answered wrongly is refused (409); a Triton that could not serve it at all
    // (not ready, unreachable) is 503, and then nothing may be serving, whatever this replica pins.
    const status = warm.error === undefined ? 409 : failureStatus(warm.error);
    throw new RollbackError(status, 'rollback_failed', `Version ${target} failed its warm-up (${warm.reason ?? 'unknown'}); ${stillServingAfter(warm.error)}${restored}`, 'warmup', servingAfterFailure);
  }

  // 3. Switch the gateway's pin, then let the registry re-warm through its normal path.
  const noted = noteTargetEngine(deps, entry, targetSchema, target, now.from);
  entry.servedVersion = target;
  const outcome = await registry.rewarm(name);
  if (!outcome.passed) {
    noted.abandoned();
    const restored = await restore();
    await registry.rewarm(name).catch(() => undefined);
    throw new RollbackError(409, 'rollback_failed', `Version ${target} passed its first warm-up but not the registry's (${outcome.reason ?? 'unknown'}); ${stillServingAfter(undefined)}${restored}`, 'activate', servingAfterFailure);
  }

  // 4. Unload the other versions; traffic is already pinned, so a failure here is only a warning.
  let warning: string | null = null;
  if (keep.some((v) => v !== target)) {
    try {
      await load(entry.tritonModel, { config: pinning([target], req.config) });
    } catch (err) {
      warning = `version ${target} serves, but unloading versions ${keep.filter((v) => v !== target).join(', ')} failed: ${describe(err)}`;
      log.warn({ model: name, err: describe(err) }, 'rollback: unloading the other versions failed');
    }
  }

  // 5. Only now is the rollback complete.
  await noted.activated();
  const event = await complete(warm.durationMs, warning);
  log.info({ model: name, to_version: target, ms: Date.now() - started }, 'rollback completed');
  return event;
}
