/**
 * The model repository: which models exist, which versions are served, load/unload in
 * explicit mode, and the NOT_FOUND/UNAVAILABLE answers of core's model lifecycle
 * (shared/triton-protocol.md §2.8, §8).
 */
import { status } from '@grpc/grpc-js';
import type { RepositoryIndexResponse_ModelIndex } from '../../src/triton/generated/grpc_service.js';
import { SimError } from '../protocol/sim-error.js';
import type { ModelDefinition } from './model-definition.js';

export interface ServedModel {
  model: ModelDefinition;
  version: number;
  versionString: string;
}

interface Entry {
  model: ModelDefinition;
  /** Versions currently READY. */
  served: Set<number>;
  /** Why a version is not served, for RepositoryIndex. */
  reason: Map<number, string>;
}

export class ModelRepository {
  private readonly entries = new Map<string, Entry>();

  constructor(models: ModelDefinition[]) {
    for (const model of models) {
      if (this.entries.has(model.name)) throw new Error(`duplicate model name ${model.name}`);
      const entry: Entry = { model, served: new Set(), reason: new Map() };
      if (model.loadedAtStart) entry.served.add(model.versions[model.versions.length - 1]!);
      for (const v of model.versions) if (!entry.served.has(v)) entry.reason.set(v, 'unloaded');
      this.entries.set(model.name, entry);
    }
  }

  models(): ModelDefinition[] {
    return [...this.entries.values()].map((e) => e.model);
  }

  definition(name: string): ModelDefinition | undefined {
    return this.entries.get(name)?.model;
  }

  readyVersions(name: string): number[] {
    const e = this.entries.get(name);
    return e ? [...e.served].sort((a, b) => a - b) : [];
  }

  isLoaded(name: string): boolean {
    return (this.entries.get(name)?.served.size ?? 0) > 0;
  }

  /** The served version for a request; version "" means the highest ready one. */
  resolve(name: string, version: string): ServedModel {
    const e = this.entries.get(name);
    if (e === undefined) throw new SimError(status.NOT_FOUND, `Request for unknown model: '${name}' is not found`);
    if (version === '') {
      let latest = -1;
      for (const v of e.served) if (v > latest) latest = v;
      if (latest < 0) throw new SimError(status.NOT_FOUND, `Request for unknown model: '${name}' has no available versions`);
      return { model: e.model, version: latest, versionString: String(latest) };
    }
    const v = Number(version);
    if (!/^\d+$/.test(version) || !e.model.versions.includes(v)) {
      throw new SimError(status.NOT_FOUND, `Request for unknown model: '${name}' version ${version} is not found`);
    }
    if (!e.served.has(v)) {
      throw new SimError(status.UNAVAILABLE, `Request for unknown model: '${name}' version ${version} is not at ready state`);
    }
    return { model: e.model, version: v, versionString: String(v) };
  }

  /**
   * Explicit-mode load. `configJson` may carry a version_policy as Triton's config override does:
   * {"version_policy":{"specific":{"versions":[2]}}}, {"latest":{"num_versions":2}} or {"all":{}}.
   */
  load(name: string, configJson: string | undefined): void {
    const e = this.entries.get(name);
    if (e === undefined) throw new SimError(status.INTERNAL, `failed to load '${name}', failed to poll from model repository`);
    const versions = configJson === undefined ? undefined : versionsFromOverride(name, configJson, e.model.versions);
    const chosen = versions ?? [e.model.versions[e.model.versions.length - 1]!];
    e.served = new Set(chosen);
    e.reason.clear();
    for (const v of e.model.versions) if (!e.served.has(v)) e.reason.set(v, 'unloaded');
  }

  unload(name: string): void {
    const e = this.entries.get(name);
    if (e === undefined || e.served.size === 0) throw new SimError(status.INVALID_ARGUMENT, 'Model to be unloaded has not been served');
    for (const v of e.served) e.reason.set(v, 'unloaded');
    e.served.clear();
  }

  index(readyOnly: boolean): RepositoryIndexResponse_ModelIndex[] {
    const out: RepositoryIndexResponse_ModelIndex[] = [];
    for (const e of this.entries.values()) {
      for (const v of e.model.versions) {
        const ready = e.served.has(v);
        if (readyOnly && !ready) continue;
        out.push({ name: e.model.name, version: String(v), state: ready ? 'READY' : 'UNAVAILABLE', reason: ready ? '' : (e.reason.get(v) ?? 'unloaded') });
      }
    }
    return out;
  }
}

function versionsFromOverride(name: string, json: string, available: number[]): number[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new SimError(status.INVALID_ARGUMENT, `failed to load '${name}', failed to parse the config override: ${(err as Error).message}`);
  }
  const policy = (parsed as { version_policy?: Record<string, unknown> } | null)?.version_policy;
  if (policy === undefined || policy === null || typeof policy !== 'object') return undefined;
  if ('specific' in policy) {
    const versions = (policy.specific as { versions?: unknown } | null)?.versions;
    if (!Array.isArray(versions) || versions.length === 0) {
      throw new SimError(status.INVALID_ARGUMENT, `failed to load '${name}', version_policy.specific.versions must list at least one version`);
    }
    const wanted = versions.map((v) => Number(v));
    for (const v of wanted) {
      if (!available.includes(v)) throw new SimError(status.INTERNAL, `failed to load '${name}', version ${v} is not in the model repository`);
    }
    return wanted;
  }
  if ('latest' in policy) {
    const n = Number((policy.latest as { num_versions?: unknown } | null)?.num_versions ?? 1);
    return available.slice(-Math.max(1, n));
  }
  if ('all' in policy) return [...available];
  return undefined;
}
