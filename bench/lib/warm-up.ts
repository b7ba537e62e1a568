/**
 * Brings a path to its steady state before anything on it is measured. V8 compiles a function
 * with its optimising compiler only after enough calls, and the gateway's request path is
 * hundreds of functions: a fresh gateway at 500 req/s spent 1,867 µs of CPU per request over
 * its first 1,500 requests, 1,213, 867 and 840 over each of the next three 1,500 and ~755 from
 * ~6,000 on, and `--trace-opt` still counted 142 optimisations in its third 2,000 requests and
 * 42 in its fourth (bench/HISTORY.md, JIT warm-up). A gateway in production serves millions of
 * requests; its budgets are about that state, so every non-streamed path (the gateway, and the
 * direct client with the simulator, whose code warms up the same way) serves this many requests
 * first. The half-second warm-up before each phase stays: it settles connections and queues
 * after the pause between phases.
 */
import type { BenchContext } from './context.js';
import { runOpenLoop } from './open-loop.js';

export interface WarmUpPlan {
  requests: number;
  rate: number;
}

export function warmUpPlan(ctx: Pick<BenchContext, 'quick'>): WarmUpPlan {
  return ctx.quick ? { requests: 2_000, rate: 1_000 } : { requests: 10_000, rate: 1_000 };
}

/** Sends `plan.requests` non-streamed requests at `plan.rate`; errors are reported, not thrown. */
export async function warmUp(ctx: Pick<BenchContext, 'quick' | 'log'>, what: string, send: (index: number) => Promise<void>, plan = warmUpPlan(ctx)): Promise<void> {
  const t0 = performance.now();
  ctx.log(`warming up ${what}: ${plan.requests.toLocaleString('en-US')} requests at ${plan.rate.toLocaleString('en-US')} req/s`);
  const run = await runOpenLoop({ rate: plan.rate, durationMs: (plan.requests / plan.rate) * 1000, send: (i) => send(i), drainTimeoutMs: 10_000 });
  const failed = run.errors + run.dropped;
  ctx.log(
    `  ${what} warm in ${((performance.now() - t0) / 1000).toFixed(1)} s (${run.completed} answered` +
      (failed > 0 ? `, ${failed} failed: ${run.errorSamples.join('; ')}` : '') +
      ')',
  );
}
