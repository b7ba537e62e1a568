/**
 * Counters of one model version: the numbers behind ModelStatistics and the nv_inference_*
 * metrics. Durations are kept in nanoseconds.
 */
import type { FailureReason } from '../protocol/sim-error.js';

export interface Duration {
  count: number;
  ns: number;
}

const zero = (): Duration => ({ count: 0, ns: 0 });

/**
 * The reason a failure is counted under for a model of this flavour: Triton counts an ensemble's
 * failures on the ensemble as OTHER, the real reason going to the composing model
 * (shared/triton-protocol.md §6), which the simulator does not model separately. A client's
 * cancel is not a step failing and stays CANCELED (the run records it without asking here).
 */
export function countedFailureReason(flavour: string, reason: FailureReason): FailureReason {
  return flavour === 'ensemble' ? 'OTHER' : reason;
}

export class ModelStats {
  success = zero();
  fail = zero();
  queue = zero();
  computeInput = zero();
  computeInfer = zero();
  computeOutput = zero();
  inferenceCount = 0;
  executionCount = 0;
  /** Unix ms of the last inference, 0 = never. */
  lastInference = 0;
  failures: Record<FailureReason, number> = { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 };
  promptTokens = 0;
  generationTokens = 0;
  kvReusedBlocks = 0;
  kvMissedBlocks = 0;
  draftTokens = 0;
  acceptedDraftTokens = 0;

  recordFailure(reason: FailureReason, totalNs: number): void {
    this.failures[reason]++;
    this.fail.count++;
    this.fail.ns += totalNs;
  }
}

/** Counters per model: stats per version plus the request tallies /control/state reports. */
export class ModelCounters {
  received = 0;
  completed = 0;
  failed = 0;
  cancellations = 0;
  /** Prompt plus generated tokens of the requests generating now (KV blocks in use). */
  inflightTokens = 0;
  readonly byVersion = new Map<number, ModelStats>();

  /** In place: runs in flight keep their references. */
  reset(): void {
    this.received = 0;
    this.completed = 0;
    this.failed = 0;
    this.cancellations = 0;
    this.byVersion.clear();
  }

  version(v: number): ModelStats {
    let s = this.byVersion.get(v);
    if (s === undefined) {
      s = new ModelStats();
      this.byVersion.set(v, s);
    }
    return s;
  }
}
