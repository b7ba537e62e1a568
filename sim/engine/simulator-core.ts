/**
 * The simulator behind every transport: resolves, checks and admits requests, runs them, and
 * owns the shared state (repository, schedulers, KV caches, GPUs, faults, counters, recordings).
 * Transports only translate between their wire and submit()/ResponseSink.
 */
import { status, type Metadata } from '@grpc/grpc-js';
import type { FaultSpec, GpuConfig, RecordedRequest, SimModelState, SimState } from '../types.js';
import { ModelRepository } from '../model/repository.js';
import type { ModelDefinition } from '../model/model-definition.js';
import { validateRequest, type WireRequest } from '../protocol/infer-request.js';
import { SimError, requestPrefix } from '../protocol/sim-error.js';
import { isLlmFlavour } from '../model/flavours.js';
import { readLlmRequest } from './llm-request.js';
import { FaultBook } from './fault-book.js';
import { GpuPool } from './gpu-pool.js';
import { KvCache } from './kv-cache.js';
import { ModelCounters, countedFailureReason } from './model-stats.js';
import { Recorder, type RecordEntry } from './recorder.js';
import type { ResponseHead, ResponseSink } from './response-sink.js';
import { Run, type RunServices } from './run.js';
import { Scheduler } from './scheduler.js';

export interface SubmitContext {
  transport: RecordedRequest['transport'];
  metadata: Metadata | Record<string, string>;
  /** Unary ModelInfer: refuses decoupled models. */
  unary: boolean;
}

export interface CoreOptions {
  models: ModelDefinition[];
  gpus: GpuConfig[];
  seed: number;
  recordLimit: number;
  logRequests: boolean;
}

export class SimulatorCore {
  readonly repository: ModelRepository;
  readonly faults: FaultBook;
  readonly recorder: Recorder;
  readonly gpu: GpuPool;
  readonly seed: number;
  ready = true;
  openStreams = 0;
  private readonly schedulers = new Map<string, Scheduler>();
  private readonly kv = new Map<string, KvCache>();
  private readonly counters = new Map<string, ModelCounters>();
  private readonly runs = new Set<Run>();
  private readonly logRequests: boolean;

  constructor(options: CoreOptions) {
    this.repository = new ModelRepository(options.models);
    this.faults = new FaultBook(options.seed);
    this.recorder = new Recorder(options.recordLimit);
    this.seed = options.seed;
    this.logRequests = options.logRequests;
    this.gpu = new GpuPool(options.gpus, (index) => this.weightsOn(index));
    for (const m of options.models) {
      this.schedulers.set(m.name, new Scheduler(m.concurrency, m.maxQueueSize, m.latency.queueDelayMs));
      this.counters.set(m.name, new ModelCounters());
      if (m.fault !== undefined) this.faults.set(m.name, m.fault);
    }
  }

  /** Whether the model a request names is decoupled; undefined when it names no served model. */
  decoupled(modelName: string, modelVersion: string): boolean | undefined {
    try {
      return this.repository.resolve(modelName, modelVersion).model.decoupled;
    } catch {
      return undefined;
    }
  }

  /** Takes one inference request; returns the run (for cancellation) when it was admitted. */
  submit(wire: WireRequest, sink: ResponseSink, ctx: SubmitContext): Run | undefined {
    const entry = this.recorder.add(wire, ctx.transport, ctx.metadata);
    const head: ResponseHead = { id: wire.id, modelName: wire.modelName, modelVersion: '' };
    // Triton's core refuses inference while the server is not ready (shared/triton-protocol.md §8).
    if (!this.ready) return this.reject(entry, sink, head, new SimError(status.UNAVAILABLE, 'Server not ready'));
    let served;
    try {
      served = this.repository.resolve(wire.modelName, wire.modelVersion);
    } catch (err) {
      return this.reject(entry, sink, head, err);
    }
    const model = served.model;
    head.modelVersion = served.versionString;
    const counters = this.counters.get(model.name)!;
    counters.received++;
    const stats = counters.version(served.version);
    const fail = (err: unknown) => {
      counters.failed++;
      stats.recordFailure(countedFailureReason(model.flavour, err instanceof SimError ? err.reason : 'OTHER'), 0);
      return this.reject(entry, sink, head, err);
    };

    if (ctx.unary && model.decoupled) {
      return fail(new SimError(status.UNIMPLEMENTED, "ModelInfer RPC doesn't support models with decoupled transaction policy"));
    }
    let valid;
    let llm;
    try {
      valid = validateRequest(wire, model);
      llm = isLlmFlavour(model.flavour) ? readLlmRequest(valid, this.seed) : undefined;
    } catch (err) {
      return fail(err);
    }

    const fault = this.faults.pick(model.name);
    const services: RunServices = {
      scheduler: this.schedulers.get(model.name)!,
      counters,
      stats,
      gpu: this.gpu,
      kv: this.kvFor(model.name, served.version),
      finished: (run) => this.finished(run, entry),
    };
    const run = new Run(valid, llm, fault, head, sink, services, entry);
    if (fault?.kind === 'queue-full' || !services.scheduler.submit(run)) {
      return fail(queueFull(model, wire.id));
    }
    if (run.isDone) return undefined;
    this.runs.add(run);
    if (!run.isRunning) entry.outcome = 'queued';
    return run;
  }

  private reject(entry: RecordEntry, sink: ResponseSink, head: ResponseHead, err: unknown): undefined {
    const e = err instanceof SimError ? err : new SimError(status.INTERNAL, (err as Error).message ?? String(err));
    entry.outcome = 'error';
    entry.error = e.message;
    sink.error(head, e);
    if (e.origin === 'backend' && !e.final) sink.flagOnlyFinal(head);
    sink.done();
    if (this.logRequests) this.log(entry);
    return undefined;
  }

  private finished(run: Run, entry: RecordEntry): void {
    this.runs.delete(run);
    if (this.logRequests) this.log(entry);
  }

  private log(e: RecordEntry): void {
    const ms = Date.now() - e.time;
    process.stderr.write(
      `triton-sim ${e.transport} model=${e.wire.modelName} id=${e.wire.id || '-'} outcome=${e.outcome} ms=${ms}${e.error ? ` error=${JSON.stringify(e.error)}` : ''}\n`,
    );
  }

  private kvFor(name: string, version: number): KvCache {
    const key = `${name}:${version}`;
    let cache = this.kv.get(key);
    if (cache === undefined) {
      cache = new KvCache(this.repository.definition(name)!.kv);
      this.kv.set(key, cache);
    }
    return cache;
  }

  private weightsOn(index: number): number {
    let bytes = 0;
    for (const m of this.repository.models()) {
      if (this.repository.isLoaded(m.name) && m.gpus.includes(index)) bytes += m.weightsBytes / m.gpus.length;
    }
    return bytes;
  }

  countersFor(name: string): ModelCounters | undefined {
    return this.counters.get(name);
  }

  schedulerFor(name: string): Scheduler | undefined {
    return this.schedulers.get(name);
  }

  kvCaches(name: string): KvCache[] {
    return [...this.kv].filter(([k]) => k.startsWith(`${name}:`)).map(([, v]) => v);
  }

  setFault(model: string, spec: unknown): FaultSpec {
    if (this.repository.definition(model) === undefined) throw new Error(`unknown model '${model}'`);
    return this.faults.set(model, spec);
  }

  state(): SimState {
    const models: Record<string, SimModelState> = {};
    for (const m of this.repository.models()) {
      const c = this.counters.get(m.name)!;
      const s = this.schedulers.get(m.name)!;
      models[m.name] = {
        loaded: this.repository.isLoaded(m.name),
        readyVersions: this.repository.readyVersions(m.name).map(String),
        inFlight: s.running,
        queued: s.queued,
        received: c.received,
        completed: c.completed,
        failed: c.failed,
        cancellations: c.cancellations,
        fault: this.faults.get(m.name),
        faultSeen: this.faults.seen(m.name),
      };
    }
    const gpus = this.gpu.snapshot().map(({ powerLimitWatts: _l, energyJoules: _e, ...g }) => g);
    return { ready: this.ready, openStreams: this.openStreams, models, gpus };
  }

  /** Clears recordings, counters, statistics, KV caches and fault counters; in-flight requests go on. */
  reset(): void {
    this.recorder.clear();
    for (const c of this.counters.values()) c.reset();
    for (const cache of this.kv.values()) cache.clear();
    this.faults.resetCounters();
  }

  stop(): void {
    for (const run of [...this.runs]) run.cancel();
    for (const s of this.schedulers.values()) s.stop();
  }
}

/** Ensembles report a composing model's full queue through the response path, prefixed. */
function queueFull(model: ModelDefinition, id: string): SimError {
  const message = `${requestPrefix(id)}Exceeds maximum queue size`;
  if (model.flavour === 'ensemble') return new SimError(status.UNAVAILABLE, `in ensemble '${model.name}', ${message}`, 'backend', 'REJECTED');
  return new SimError(status.UNAVAILABLE, message, 'frontend', 'REJECTED');
}
