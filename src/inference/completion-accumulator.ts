/**
 * Folds Triton responses into what the client is told: the text, exact usage (prompt tokens
 * from the response that reports them, completion tokens summed over per-response deltas), a
 * true finish reason, and the TRT-LLM perf outputs of the last response that carried them.
 */
import type { FinishReason, GenerationDelta, PerfMetrics } from '../triton/types.js';
import type { Usage } from './observer.js';

export class CompletionAccumulator {
  text = '';
  promptTokens: number | undefined;
  completionTokens = 0;
  private sawCompletionTokens = false;
  private backendFinish: FinishReason | undefined;
  perf: PerfMetrics | undefined;
  responses = 0;

  /**
   * `keepText: false` for streams: their text has already gone to the client chunk by chunk,
   * and keeping it made every open stream hold a rope of all its tokens (1,000 streams × 128
   * tokens were ~7 MiB of strings that every minor GC copied).
   */
  constructor(
    private readonly maxTokens: number,
    private readonly options: { keepText: boolean } = { keepText: true },
  ) {}

  add(delta: GenerationDelta): void {
    this.responses += 1;
    if (this.options.keepText) this.text += delta.text;
    if (delta.inputTokens !== undefined) this.promptTokens = delta.inputTokens;
    if (delta.outputTokens !== undefined) {
      this.completionTokens += delta.outputTokens;
      this.sawCompletionTokens = true;
    }
    if (delta.finishReason) this.backendFinish = delta.finishReason;
    if (delta.perf) this.perf = delta.perf;
  }

  /** Exact usage, or undefined when the backend did not report token counts (never a guess). */
  usage(): Usage | undefined {
    if (this.promptTokens === undefined || !this.sawCompletionTokens) return undefined;
    return { promptTokens: this.promptTokens, completionTokens: this.completionTokens };
  }

  /** The backend's reason when it gives one; otherwise `length` exactly when the token limit was reached. */
  finishReason(): FinishReason {
    if (this.backendFinish) return this.backendFinish;
    return this.sawCompletionTokens && this.completionTokens >= this.maxTokens ? 'length' : 'stop';
  }
}

export function costUsd(usage: Usage, pricing: { inputPerMillion: number; outputPerMillion: number } | undefined): number | undefined {
  if (!pricing) return undefined;
  return (usage.promptTokens * pricing.inputPerMillion + usage.completionTokens * pricing.outputPerMillion) / 1_000_000;
}
