/**
 * Which engine a model is serving: the version, and the engine hash, quantisation and manifest
 * from Triton's model config `parameters` when it has them, else from the gateway config's
 * `engine` block. EngineTracker remembers which (version, hash) pairs each model has had, seeded
 * from the event log, so `llm_engine_published` is recorded once per new engine, not once per
 * restart or per re-describe.
 */
import type { ModelConfig } from '../config.js';
import type { ModelSchema } from '../triton/types.js';
import type { EngineManifest, GovernanceEvent, SchemaVersions } from './events.js';

export interface IdentitySubject {
  config: ModelConfig;
  tritonModel: string;
  upstream: { name: string };
  /** The version the gateway pins requests to ('' = Triton's latest). */
  servedVersion?: string;
}

const HASH_KEYS = ['engine_hash', 'engine_sha256'];
const QUANT_KEYS = ['quantisation', 'quantization', 'quant_mode'];
const MANIFEST_KEYS = ['manifest', 'engine_manifest', 'manifest_hash'];

function pick(params: Record<string, string>, keys: string[]): string | undefined {
  for (const k of keys) {
    const v = params[k];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** The version an entry serves: its pin, else the highest ready version Triton reported. */
export function servingVersion(subject: IdentitySubject, schema: ModelSchema | undefined): string | null {
  const pinned = subject.servedVersion ?? subject.config.version;
  if (pinned) return pinned;
  const versions = (schema?.versions ?? []).filter((v) => /^\d+$/.test(v)).map(Number);
  return versions.length > 0 ? String(Math.max(...versions)) : null;
}

export function engineManifest(subject: IdentitySubject, schema: ModelSchema | undefined, version = servingVersion(subject, schema)): EngineManifest {
  const params = schema?.parameters ?? {};
  const fromTriton = { hash: pick(params, HASH_KEYS), quantisation: pick(params, QUANT_KEYS), manifest: pick(params, MANIFEST_KEYS) };
  const engine = subject.config.engine;
  const tritonHas = fromTriton.hash !== undefined || fromTriton.quantisation !== undefined || fromTriton.manifest !== undefined;
  const configHas = engine !== undefined && (engine.hash !== undefined || engine.quantisation !== undefined || engine.manifest !== undefined);
  return {
    model: subject.config.name,
    triton_model: subject.tritonModel,
    target: subject.upstream.name,
    version,
    engine_hash: fromTriton.hash ?? engine?.hash ?? null,
    quantisation: fromTriton.quantisation ?? engine?.quantisation ?? null,
    manifest: fromTriton.manifest ?? engine?.manifest ?? null,
    source: tritonHas ? 'triton' : configHas ? 'config' : 'none',
  };
}

export function schemaVersions(schema: ModelSchema | undefined): SchemaVersions {
  const params = schema?.parameters ?? {};
  return {
    model_versions: schema?.versions.slice() ?? [],
    schema_id: params.schema_id || null,
    schema_version: params.schema_version || params.schema_registry_version || null,
  };
}

function key(m: Pick<EngineManifest, 'target' | 'triton_model' | 'version' | 'engine_hash'>): string {
  return `${m.target}\u0000${m.triton_model}\u0000${m.version ?? ''}\u0000${m.engine_hash ?? ''}`;
}

export class EngineTracker {
  private readonly seen = new Map<string, Set<string>>();
  private readonly latest = new Map<string, EngineManifest>();

  /** Learns the engines already on record (published, or restored by a rollback). */
  seed(events: readonly GovernanceEvent[]): void {
    for (const e of events) {
      if (e.event === 'llm_engine_published') this.remember(e.engine);
      else if (e.event === 'llm_rollback_completed') this.remember(e.restored);
    }
  }

  /** Marks an engine as known without it counting as new. */
  remember(m: EngineManifest): void {
    let set = this.seen.get(m.model);
    if (!set) this.seen.set(m.model, (set = new Set()));
    set.add(key(m));
    this.latest.set(m.model, m);
  }

  /** Undoes remember() for an engine that never served, making `current` the one before (if any). */
  forget(m: EngineManifest, current: EngineManifest | undefined): void {
    this.seen.get(m.model)?.delete(key(m));
    if (current) this.latest.set(m.model, current);
    else this.latest.delete(m.model);
  }

  isNew(m: EngineManifest): boolean {
    return !(this.seen.get(m.model)?.has(key(m)) ?? false);
  }

  /** The last engine remembered for the model. */
  current(model: string): EngineManifest | undefined {
    return this.latest.get(model);
  }
}
