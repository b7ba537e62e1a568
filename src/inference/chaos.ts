/**
 * Fault injection for game days (the source document's chaos monkey, scoped): off by default,
 * turned on by config or the admin API, with a rate, modes and a scope by route and model.
 * It acts on upstream attempts of inference routes only, so /livez, /readyz, /metrics and
 * /debug/* can never be hit, and so breakers, retries and fallbacks react to it as to a real
 * Triton fault.
 */
import { GatewayError } from '../errors.js';

export type ChaosMode = 'error' | 'timeout' | 'slow';

/**
 * The longest "slow" delay: ten minutes, far past any deadline. Node cannot time more than
 * 2^31 - 1 ms and turns a longer delay into 1 ms, the opposite of what was asked.
 */
export const MAX_CHAOS_SLOW_MS = 600_000;

export interface ChaosSettings {
  enabled: boolean;
  rate: number;
  modes: ChaosMode[];
  routes: string[];
  models: string[];
  slowMs: number;
}

export class ChaosMonkey {
  private settings: ChaosSettings;

  constructor(
    initial: ChaosSettings,
    private readonly onInject: (mode: ChaosMode, endpoint: string) => void = () => undefined,
    private readonly random: () => number = Math.random,
  ) {
    this.settings = { ...initial };
  }

  get current(): ChaosSettings {
    return { ...this.settings, modes: [...this.settings.modes], routes: [...this.settings.routes], models: [...this.settings.models] };
  }

  update(next: Partial<ChaosSettings>): ChaosSettings {
    this.settings = { ...this.settings, ...next };
    return this.current;
  }

  private inScope(endpoint: string, model: string): boolean {
    const { routes, models } = this.settings;
    return (routes.length === 0 || routes.includes(endpoint)) && (models.length === 0 || models.includes(model));
  }

  /** Before an upstream attempt: maybe fail it, or delay it. */
  async beforeAttempt(endpoint: string, model: string): Promise<void> {
    const s = this.settings;
    if (!s.enabled || !endpoint.startsWith('/v1/') || !this.inScope(endpoint, model)) return;
    if (this.random() >= s.rate) return;
    const mode = s.modes[Math.floor(this.random() * s.modes.length)] ?? 'error';
    this.onInject(mode, endpoint);
    if (mode === 'error') throw new GatewayError('upstream_unavailable', 'chaos: injected upstream error', { upstreamFault: true });
    if (mode === 'timeout') throw new GatewayError('upstream_timeout', 'chaos: injected upstream timeout', { upstreamFault: true });
    await new Promise((resolve) => setTimeout(resolve, s.slowMs));
  }
}
