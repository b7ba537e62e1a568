/**
 * The fault set on each model and which requests it hits (always, the first N since it was set,
 * or a seeded fraction).
 */
import { faultSchema, parseOrThrow } from '../config/schema.js';
import { createPrng } from '../text/prng.js';
import type { FaultSpec } from '../types.js';

interface Entry {
  spec: FaultSpec;
  seen: number;
  rng: () => number;
}

export class FaultBook {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly baseSeed: number) {}

  /** Validates (throws on a bad spec) and replaces the model's fault. */
  set(model: string, spec: unknown): FaultSpec {
    const parsed = parseOrThrow(faultSchema, spec, `fault for ${model}`) as FaultSpec;
    this.entries.set(model, { spec: parsed, seen: 0, rng: createPrng(parsed.seed ?? this.baseSeed) });
    return parsed;
  }

  clear(model?: string): void {
    if (model === undefined) this.entries.clear();
    else this.entries.delete(model);
  }

  get(model: string): FaultSpec | null {
    return this.entries.get(model)?.spec ?? null;
  }

  /** Calls the model's fault has met since it was set or the counters were reset (hit or spared). */
  seen(model: string): number {
    return this.entries.get(model)?.seen ?? 0;
  }

  all(): Record<string, FaultSpec> {
    return Object.fromEntries([...this.entries].map(([k, e]) => [k, e.spec]));
  }

  /**
   * The fault for this call, or undefined when it is spared. A ModelReady fault only meets
   * ModelReady calls (`call: 'model-ready'`) and a load fault only RepositoryModelLoad calls
   * (`call: 'load'`), each counting only those; every other fault only meets inference requests.
   */
  pick(model: string, call: 'inference' | 'model-ready' | 'load' = 'inference'): FaultSpec | undefined {
    const e = this.entries.get(model);
    if (e === undefined) return undefined;
    if (callOf(e.spec) !== call) return undefined;
    e.seen++;
    if (e.spec.firstN !== undefined && e.seen > e.spec.firstN) return undefined;
    if (e.spec.fraction !== undefined && !(e.rng() < e.spec.fraction)) return undefined;
    return e.spec;
  }

  resetCounters(): void {
    for (const e of this.entries.values()) {
      e.seen = 0;
      e.rng = createPrng(e.spec.seed ?? this.baseSeed);
    }
  }
}

function callOf(spec: FaultSpec): 'inference' | 'model-ready' | 'load' {
  if (spec.kind === 'model-ready-error') return 'model-ready';
  if (spec.kind === 'slow-load') return 'load';
  return 'inference';
}
