/**
 * The warm-up request that gates a model into traffic: it must return non-empty text, report
 * usage, and finish inside its latency budget.
 */
import { isGatewayError, type GatewayError } from '../errors.js';
import type { ModelConfig } from '../config.js';
import type { ModelSchema } from '../triton/types.js';
import type { Upstream } from './upstream.js';

export interface WarmupOutcome {
  passed: boolean;
  reason?: string;
  /** Triton's failure, when the warm-up call failed with one (tells "unreachable" from "refused"). */
  error?: GatewayError;
  durationMs: number;
  completionTokens?: number;
}

export async function runWarmup(entry: { config: ModelConfig; upstream: Upstream; schema: ModelSchema | undefined; servedVersion?: string }): Promise<WarmupOutcome> {
  const warmup = entry.config.warmup;
  if (warmup === false) return { passed: true, reason: 'warm-up disabled', durationMs: 0 };
  if (!entry.schema) return { passed: false, reason: 'model schema unknown', durationMs: 0 };
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), warmup.latencyBudgetMs);
  let text = '';
  let inputTokens: number | undefined;
  let outputTokens = 0;
  let sawOutputTokens = false;
  try {
    const deltas = entry.upstream.infer(
      entry.schema,
      { prompt: warmup.prompt, maxTokens: warmup.maxTokens, stream: false, echo: false, temperature: 0, seed: 0 },
      { deadline: Date.now() + warmup.latencyBudgetMs, signal: controller.signal, version: (entry.servedVersion ?? entry.config.version) || undefined },
    );
    for await (const d of deltas) {
      text += d.text;
      if (d.inputTokens !== undefined) inputTokens = d.inputTokens;
      if (d.outputTokens !== undefined) {
        outputTokens += d.outputTokens;
        sawOutputTokens = true;
      }
    }
  } catch (err) {
    // The budget timer (or the gRPC deadline) ends the call as a cancellation or timeout: name the real cause.
    const overBudget = controller.signal.aborted || performance.now() - started >= warmup.latencyBudgetMs;
    const reason = overBudget ? `exceeded its latency budget of ${warmup.latencyBudgetMs} ms` : isGatewayError(err) ? `${err.code}: ${err.message}` : String(err);
    // Over budget is the target's own slowness, whichever timer ended the call: no Triton error to report.
    return { passed: false, reason, durationMs: performance.now() - started, ...(isGatewayError(err) && !overBudget ? { error: err } : {}) };
  } finally {
    clearTimeout(timer);
  }
  const durationMs = performance.now() - started;
  if (text.length === 0) return { passed: false, reason: 'empty text', durationMs };
  // Models that report token counts must do so; the LLM-API model has no such outputs at all.
  const reportsUsage = entry.schema.outputs.has('num_input_tokens') && entry.schema.outputs.has('num_output_tokens');
  if (reportsUsage && (inputTokens === undefined || !sawOutputTokens)) return { passed: false, reason: 'usage missing from the response', durationMs };
  if (durationMs > warmup.latencyBudgetMs) return { passed: false, reason: `took ${Math.round(durationMs)} ms, budget ${warmup.latencyBudgetMs} ms`, durationMs };
  return { passed: true, durationMs, completionTokens: outputTokens };
}
