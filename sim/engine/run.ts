/**
 * One admitted request from scheduling to its last response: plans the answer, paces it with
 * the latency model (synchronously when every delay is zero, so the benchmark path has no
 * timers), applies the request's fault, and settles counters, GPU memory and the recording.
 */
import type { FaultSpec } from '../types.js';
import { planGeneration } from '../text/generator.js';
import { hashString } from '../text/prng.js';
import type { ValidRequest } from '../protocol/infer-request.js';
import { SimError, statusFromName, type FailureReason } from '../protocol/sim-error.js';
import type { LlmRequest } from './llm-request.js';
import { LlmResponseBuilder, filterRequested, type PerfNumbers } from './llm-responses.js';
import type { OutputTensor } from './output-tensor.js';
import type { ResponseHead, ResponseSink } from './response-sink.js';
import type { Scheduler, SchedulerJob } from './scheduler.js';
import { countedFailureReason, type ModelCounters, type ModelStats } from './model-stats.js';
import { GpuLease, type GpuPool } from './gpu-pool.js';
import type { KvAllocation, KvCache } from './kv-cache.js';
import { speculate, type SpeculativeCounts } from './speculative.js';
import type { RecordEntry } from './recorder.js';

export interface RunServices {
  scheduler: Scheduler;
  counters: ModelCounters;
  stats: ModelStats;
  gpu: GpuPool;
  kv: KvCache;
  finished(run: Run): void;
}

type Outcome = 'ok' | 'error' | 'cancelled';

export class Run implements SchedulerJob {
  private state: 'queued' | 'running' | 'done' = 'queued';
  private timer: NodeJS.Timeout | undefined;
  readonly arrivalNs = process.hrtime.bigint();
  private scheduledNs = 0n;
  private firstTokenNs = 0n;
  private lastTokenNs = 0n;
  private lease: GpuLease | undefined;
  private steps = 0;
  private emitted = 0;
  private streamed = true;
  private tpt = 0;
  private faultAt: number | undefined;
  private builder: LlmResponseBuilder | undefined;
  private kvAlloc: KvAllocation | undefined;
  private spec: SpeculativeCounts | undefined;
  private readonly step = () => this.advance();

  constructor(
    readonly req: ValidRequest,
    private readonly llm: LlmRequest | undefined,
    private readonly fault: FaultSpec | undefined,
    readonly head: ResponseHead,
    private readonly sink: ResponseSink,
    private readonly services: RunServices,
    private readonly entry: RecordEntry,
  ) {}

  get isRunning(): boolean {
    return this.state === 'running';
  }

  get isDone(): boolean {
    return this.state === 'done';
  }

  start(): void {
    if (this.state !== 'queued') return;
    this.state = 'running';
    this.entry.outcome = 'running';
    this.scheduledNs = process.hrtime.bigint();
    const stats = this.services.stats;
    stats.queue.count++;
    stats.queue.ns += Number(this.scheduledNs - this.arrivalNs);
    if (this.fault?.kind === 'hang') return;

    const model = this.req.model;
    let ttft = model.latency.timeToFirstTokenMs;
    if (this.llm !== undefined) {
      const llm = this.llm;
      const plan = planGeneration({
        prompt: llm.prompt,
        maxTokens: llm.maxTokens,
        sampled: llm.sampled,
        seed: llm.seed,
        stop: llm.stop,
        includeStop: llm.includeStop,
        minTokens: llm.minTokens,
        eosAfterTokens: model.eosAfterTokens,
        ignoreEos: llm.ignoreEos,
        words: model.words,
      });
      this.builder = new LlmResponseBuilder(model.flavour, llm, plan);
      this.steps = plan.tokenTexts.length;
      this.streamed = llm.stream;
      this.kvAlloc = this.services.kv.allocate(llm.prompt, plan.promptTokens, this.steps);
      this.spec = speculate(model.speculative, this.steps, hashString(llm.prompt, llm.seed));
      this.lease = new GpuLease(model.gpus, model.kv.bytesPerToken);
      this.services.gpu.begin(this.lease, plan.promptTokens);
      this.services.counters.inflightTokens += plan.promptTokens;
      const prefilled = Math.max(0, plan.promptTokens - this.kvAlloc.reusedBlocks * model.kv.blockTokens);
      ttft += model.latency.prefillMsPerToken * prefilled;
    } else {
      this.steps = 1;
    }
    this.tpt = model.latency.timePerTokenMs;
    const f = this.fault;
    if (f?.kind === 'slow-first-token') ttft += f.ms;
    if (f?.kind === 'slow-tokens') this.tpt += f.msPerToken;
    if (f?.kind === 'error' || f?.kind === 'cut' || f?.kind === 'stall') {
      this.faultAt = Math.min(f.kind === 'error' ? (f.afterTokens ?? 0) : f.afterTokens, this.steps);
    }
    if (ttft > 0) this.timer = setTimeout(this.step, ttft);
    else this.advance();
  }

  private advance(): void {
    this.timer = undefined;
    for (;;) {
      if (this.state !== 'running') return;
      if (this.faultAt === this.emitted) return this.applyFault();
      if (this.emitted === this.steps) return this.finish();
      this.emit(this.emitted++);
      if (this.emitted < this.steps && this.tpt > 0) {
        this.timer = setTimeout(this.step, this.tpt);
        return;
      }
    }
  }

  private emit(i: number): void {
    const now = process.hrtime.bigint();
    if (i === 0) this.firstTokenNs = now;
    this.lastTokenNs = now;
    if (this.lease !== undefined) {
      this.services.gpu.grow(this.lease, 1);
      this.services.counters.inflightTokens++;
    }
    if (!this.streamed) return;
    const last = i === this.steps - 1;
    const outputs = this.builder !== undefined ? this.builder.streamed(i, last, last ? this.perf() : undefined) : this.identityOutputs();
    this.send(outputs, last && this.finalRidesOnData());
  }

  private finish(): void {
    if (!this.streamed) this.send(this.builder!.whole(this.perf()), this.finalRidesOnData());
    if (this.fault?.kind === 'no-final') return this.complete('ok', undefined, undefined, () => this.sink.endCall('OK', ''));
    if (!this.finalRidesOnData()) this.sink.flagOnlyFinal(this.head);
    this.complete('ok');
  }

  /** A non-decoupled model answers with exactly one response, which is final. */
  private finalRidesOnData(): boolean {
    const model = this.req.model;
    return (!model.decoupled || model.flavourDef.finalFlag === 'with-last') && this.fault?.kind !== 'no-final';
  }

  private applyFault(): void {
    const f = this.fault!;
    if (f.kind === 'error') {
      const bls = this.req.model.flavour === 'tensorrt_llm_bls';
      const err = new SimError(statusFromName(f.code)!, f.message, 'backend', 'BACKEND', !bls);
      this.sink.error(this.head, err);
      if (!err.final) this.sink.flagOnlyFinal(this.head);
      this.complete('error', 'BACKEND', f.message);
    } else if (f.kind === 'cut') {
      const code = f.code ?? 'UNAVAILABLE';
      const message = f.message ?? `stream cut after ${this.emitted} tokens`;
      this.complete('error', 'BACKEND', `cut: ${message}`, () => this.sink.endCall(code === 'OK' ? 'OK' : statusFromName(code)!, message));
    }
    // stall: stays running and silent until the client cancels.
  }

  private send(outputs: OutputTensor[], final: boolean): void {
    let outs = filterRequested(outputs, this.req.requestedOutputs);
    const f = this.fault;
    if (f?.kind === 'malformed') {
      if (f.variant === 'missing-text-output') outs = outs.filter((o) => o.name !== 'text_output' && o.name !== 'OUTPUT0');
      if (f.variant === 'truncated-length-prefix') outs = outs.map(truncatePrefix);
      if (f.variant === 'raw-count-mismatch') return this.sink.data(this.head, outs, final, 'raw-count-mismatch');
    }
    this.sink.data(this.head, outs, final);
  }

  private identityOutputs(): OutputTensor[] {
    const input = this.req.tensors.get('INPUT0')!;
    return [{ name: 'OUTPUT0', datatype: input.datatype, shape: input.shape, raw: input.raw }];
  }

  private perf(): PerfNumbers {
    const kv = this.kvAlloc!;
    const spec = this.spec!;
    return {
      arrivalNs: this.arrivalNs,
      scheduledNs: this.scheduledNs,
      firstTokenNs: this.firstTokenNs,
      lastTokenNs: this.lastTokenNs,
      kvReusedBlocks: kv.reusedBlocks,
      kvNewBlocks: kv.newBlocks,
      kvTotalBlocks: kv.totalBlocks,
      kvMissedBlocks: kv.missedBlocks,
      draftTokens: spec.draftTokens,
      acceptedDraftTokens: spec.acceptedDraftTokens,
    };
  }

  /** The client went away (stream cancelled, HTTP connection closed) or the simulator stopped. */
  cancel(): void {
    this.complete('cancelled', 'CANCELED', 'cancelled by the client');
  }

  /** `endCall` runs after the books are settled and before sink.done(), so the transport sees the call end first. */
  private complete(outcome: Outcome, reason?: FailureReason, error?: string, endCall?: () => void): void {
    if (this.state === 'done') return;
    const wasRunning = this.state === 'running';
    this.state = 'done';
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const { scheduler, stats, counters, gpu } = this.services;
    if (wasRunning) scheduler.release();
    else scheduler.withdraw(this);
    if (this.lease !== undefined) {
      counters.inflightTokens -= this.lease.tokens;
      gpu.end(this.lease);
    }

    const endNs = process.hrtime.bigint();
    const totalNs = Number(endNs - this.arrivalNs);
    if (outcome === 'ok') {
      counters.completed++;
      stats.success.count++;
      stats.success.ns += totalNs;
      stats.inferenceCount += this.batchSize();
      stats.executionCount++;
      stats.lastInference = Date.now();
      stats.computeInfer.count++;
      stats.computeInfer.ns += Number((this.lastTokenNs || endNs) - this.scheduledNs);
      stats.computeInput.count++;
      stats.computeOutput.count++;
      if (this.llm !== undefined) {
        stats.promptTokens += this.llm.promptTokens;
        stats.generationTokens += this.steps;
        stats.kvReusedBlocks += this.kvAlloc!.reusedBlocks;
        stats.kvMissedBlocks += this.kvAlloc!.missedBlocks;
        stats.draftTokens += this.spec!.draftTokens;
        stats.acceptedDraftTokens += this.spec!.acceptedDraftTokens;
      }
    } else if (outcome === 'cancelled') {
      counters.cancellations++;
      stats.recordFailure('CANCELED', totalNs);
    } else {
      counters.failed++;
      stats.recordFailure(countedFailureReason(this.req.model.flavour, reason ?? 'BACKEND'), totalNs);
    }
    this.entry.outcome = outcome;
    if (error !== undefined) this.entry.error = error;
    this.services.finished(this);
    endCall?.();
    this.sink.done();
  }

  private batchSize(): number {
    if (this.req.model.maxBatchSize === 0) return 1;
    const first = this.req.tensors.values().next().value;
    return first?.shape[0] ?? 1;
  }
}

/** The BYTES length prefix claims ten more bytes than follow. */
function truncatePrefix(o: OutputTensor): OutputTensor {
  if (o.datatype !== 'BYTES' || o.raw.length < 4) return o;
  const raw = Buffer.from(o.raw);
  raw.writeUInt32LE(raw.readUInt32LE(0) + 10, 0);
  return { ...o, raw };
}
