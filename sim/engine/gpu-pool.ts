/**
 * Simulated GPUs. Memory used = weights of the loaded models placed on the GPU + KV bytes of
 * every token in flight; utilization follows the number of generating sequences; power follows
 * utilization between idle and the limit; energy integrates power over time.
 */
import type { GpuConfig, SimGpuState } from '../types.js';

export const DEFAULT_GPUS: GpuConfig[] = [
  {
    uuid: 'GPU-5f2c9a1e-7b3d-4c8e-9a6f-2d1b0e4c3a71',
    name: 'NVIDIA H100 80GB HBM3 (simulated)',
    memoryTotalBytes: 85_520_809_984,
    idlePowerWatts: 70,
    powerLimitWatts: 700,
    saturationSequences: 32,
  },
];

/** One request's footprint, spread evenly over its model's GPUs. */
export class GpuLease {
  tokens = 0;
  constructor(
    readonly gpus: readonly number[],
    readonly bytesPerToken: number,
  ) {}
}

interface GpuRuntime {
  config: GpuConfig;
  activeSequences: number;
  kvBytes: number;
  energyJoules: number;
  lastSampleMs: number;
}

export class GpuPool {
  private readonly gpus: GpuRuntime[];

  constructor(
    configs: GpuConfig[],
    /** Bytes of weights per GPU index, from the models currently loaded. */
    private readonly weightsOn: (index: number) => number,
  ) {
    const now = Date.now();
    this.gpus = configs.map((config) => ({ config, activeSequences: 0, kvBytes: 0, energyJoules: 0, lastSampleMs: now }));
  }

  get count(): number {
    return this.gpus.length;
  }

  begin(lease: GpuLease, tokens: number): void {
    this.integrate();
    for (const i of lease.gpus) this.gpus[i]!.activeSequences++;
    this.grow(lease, tokens);
  }

  grow(lease: GpuLease, tokens: number): void {
    lease.tokens += tokens;
    const share = (tokens * lease.bytesPerToken) / lease.gpus.length;
    for (const i of lease.gpus) this.gpus[i]!.kvBytes += share;
  }

  end(lease: GpuLease): void {
    this.integrate();
    const share = (lease.tokens * lease.bytesPerToken) / lease.gpus.length;
    for (const i of lease.gpus) {
      const g = this.gpus[i]!;
      g.activeSequences--;
      g.kvBytes = Math.max(0, g.kvBytes - share);
    }
    lease.tokens = 0;
  }

  /** Accumulates energy up to now at the power of the current utilization. */
  private integrate(): void {
    const now = Date.now();
    for (const g of this.gpus) {
      g.energyJoules += (this.power(g) * (now - g.lastSampleMs)) / 1000;
      g.lastSampleMs = now;
    }
  }

  private utilization(g: GpuRuntime): number {
    return Math.min(1, g.activeSequences / Math.max(1, g.config.saturationSequences));
  }

  private power(g: GpuRuntime): number {
    return g.config.idlePowerWatts + (g.config.powerLimitWatts - g.config.idlePowerWatts) * this.utilization(g);
  }

  snapshot(): Array<SimGpuState & { powerLimitWatts: number; energyJoules: number }> {
    this.integrate();
    return this.gpus.map((g, index) => ({
      index,
      uuid: g.config.uuid,
      name: g.config.name,
      memoryTotalBytes: g.config.memoryTotalBytes,
      memoryUsedBytes: Math.min(g.config.memoryTotalBytes, Math.round(this.weightsOn(index) + g.kvBytes)),
      utilization: this.utilization(g),
      powerWatts: this.power(g),
      activeSequences: g.activeSequences,
      powerLimitWatts: g.config.powerLimitWatts,
      energyJoules: g.energyJoules,
    }));
  }
}
