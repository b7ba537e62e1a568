/**
 * A gateway + simulator set up for failure tests: a primary with a fallback, a model with no
 * fallback, short deadlines, fast breakers and quick retries, so each scenario runs in well
 * under a second.
 */
import { startStack, type Stack, type StackOptions } from './stack.js';

export const primary = 'llama-3-8b-trtllm';
export const secondary = 'qwen3-vllm';

export function resilienceConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    models: [
      { name: 'llama-3-8b', tritonModel: primary, fallbacks: ['qwen3'], deadlines: { totalMs: 1500, ttftMs: 300, idleMs: 300 }, pricing: { inputPerMillion: 1, outputPerMillion: 2 } },
      { name: 'qwen3', tritonModel: secondary, deadlines: { totalMs: 1500, ttftMs: 300, idleMs: 300 }, pricing: { inputPerMillion: 0.5, outputPerMillion: 1 } },
      { name: 'solo', tritonModel: 'llama-3-8b-bls', deadlines: { totalMs: 600, ttftMs: 300, idleMs: 300 } },
    ],
    resilience: {
      breaker: { errorThresholdPercentage: 50, volumeThreshold: 3, resetTimeoutMs: 400, rollingWindowMs: 5000 },
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, budgetRatio: 1, budgetMinPerWindow: 100, budgetWindowMs: 10_000 },
    },
    ...overrides,
  };
}

/**
 * Config for that stack with breakers that never open: for tests of one failure after another, where the
 * previous test's failures must not open the model's breaker for the next.
 */
export function neverOpeningBreakers(): Record<string, unknown> {
  const base = resilienceConfig().resilience as Record<string, unknown>;
  return { resilience: { ...base, breaker: { errorThresholdPercentage: 50, volumeThreshold: 1000, resetTimeoutMs: 400, rollingWindowMs: 5000 } } };
}

export async function startResilienceStack(options: StackOptions = {}): Promise<Stack> {
  return startStack({ ...options, config: { ...resilienceConfig(), ...options.config } });
}

export function receivedFor(stack: Stack, model: string): number {
  return stack.sim.received().filter((r) => r.model === model).length;
}
