/**
 * Rolling a model back to an earlier Triton version, make-before-break:
 *  1. RepositoryModelLoad with a config override whose version_policy pins the versions Triton
 *     serves now plus the target (`{"version_policy":{"specific":{"versions":[2,1]}}}`), so the
 *     current version keeps serving while the target loads (explicit model-control mode only);
 *  2. a warm-up request pinned to the target version; if it fails, the original version policy
 *     is loaded again and nothing else changed;
 *  3. the gateway pins its requests to the target (entry.servedVersion) and the registry re-warms
 *     the model through its normal path (which records llm_warmup_completed);
 *  4. the other versions are unloaded (a load pinning only the target);
 *  5. only then `llm_rollback_completed`, with the previous and restored manifests and the actor.
 * A failure at any step before 5 leaves the version that was serving still serving, and says so
 * (409 when Triton refused, 503 when it could not be reached).
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
import type { EventOf } from './events.js';
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
 * A failed rollback changed nothing: the previous version still serves. When Triton answered and
 * refused (the version is not in the repository, explicit mode is off, the target fails its
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

async function run(
  deps: RollbackDeps,
  entry: ModelEntry,
  req: RollbackRequest,
  load: (model: string, options?: { config?: object }) => Promise<void>,
): Promise<EventOf<'llm_rollback_completed'>> {
  const { registry, log } = deps;
  const target = req.version;
  const name = entry.config.name;
  const started = Date.now();

  // What serves now: Triton's ready versions, and the engine the gateway believes it serves.
  let current: ModelSchema | undefined;
  try {
    current = await entry.upstream.describeModel(entry.tritonModel);
  } catch (err) {
    log.warn({ model: name, err: describe(err) }, 'rollback: cannot describe the current version; proceeding from the last known schema');
  }
  const keep = (current?.versions ?? entry.schema?.versions ?? []).filter((v) => /^\d+$/.test(v));
  const previous = engineManifest(entry, entry.schema ?? current);
  const servingNow = previous.version;
  const stillServing = `version ${servingNow ?? '(unknown)'} is still serving`;
  log.info({ model: name, triton_model: entry.tritonModel, from_version: servingNow, to_version: target, actor: req.actor }, 'rollback started');

  // Pin what serves now while the target loads: with no pin, Triton's "latest" could become an
  // unwarmed target (a roll forward).
  const pinnedBefore = entry.servedVersion;
  if (!pinnedBefore && servingNow) entry.servedVersion = servingNow;

  const restore = async (): Promise<string> => {
    entry.servedVersion = pinnedBefore;
    try {
      if (keep.length > 0) await load(entry.tritonModel, { config: pinning(keep, req.config) });
      return '';
    } catch (err) {
      return `; restoring the version policy failed too: ${describe(err)}`;
    }
  };

  // 1. Load the target next to what serves now.
  try {
    await load(entry.tritonModel, { config: pinning([...keep, target], req.config) });
  } catch (err) {
    entry.servedVersion = pinnedBefore;
    const message = describe(err);
    throw new RollbackError(failureStatus(err), 'rollback_failed', `Loading version ${target} of ${entry.tritonModel} failed: ${message}${hint(message)}; ${stillServing}`, 'load', servingNow);
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
    throw new RollbackError(failureStatus(err), 'rollback_failed', `Version ${target} could not be described after loading: ${describe(err)}; ${stillServing}${restored}`, 'warmup', servingNow);
  }
  if (!warm.passed) {
    await deps.watch.recordWarmup(entry, targetSchema, warm, target);
    const restored = await restore();
    throw new RollbackError(409, 'rollback_failed', `Version ${target} failed its warm-up (${warm.reason ?? 'unknown'}); ${stillServing}${restored}`, 'warmup', servingNow);
  }

  // 3. Switch the gateway's pin, then let the registry re-warm through its normal path.
  const restoredManifest = engineManifest({ ...entry, servedVersion: target }, targetSchema, target);
  deps.tracker.remember(restoredManifest);
  entry.servedVersion = target;
  const outcome = await registry.rewarm(name);
  if (!outcome.passed) {
    const restored = await restore();
    await registry.rewarm(name).catch(() => undefined);
    throw new RollbackError(409, 'rollback_failed', `Version ${target} passed its first warm-up but not the registry's (${outcome.reason ?? 'unknown'}); ${stillServing}${restored}`, 'activate', servingNow);
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
  const event = await deps.recorder.record({
    event: 'llm_rollback_completed',
    model: name,
    from_version: servingNow,
    to_version: target,
    previous,
    restored: engineManifest(entry, entry.schema, target),
    actor: req.actor,
    reason: req.reason ?? null,
    warmup_duration_ms: Math.round(warm.durationMs * 1000) / 1000,
    warning,
  });
  log.info({ model: name, to_version: target, ms: Date.now() - started }, 'rollback completed');
  return event;
}
