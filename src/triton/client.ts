/**
 * TritonClient: one per Triton target (an address list or a `dns:///` name, see channel.ts).
 *
 * `infer()` opens one ModelStreamInfer per request (DESIGN §5): cancelling the call is the only
 * way to stop one generation on Triton, so a client disconnect must own its own stream. A
 * non-streamed request made with `multiplex: true` shares long-lived streams instead
 * (stream-mux.ts: cheaper, at the price said there). The
 * request is written and the stream half-closed at once; Triton finishes the RPC when the client
 * has half-closed and every request on it is done (reference §3.7), so half-closing early is safe.
 *
 * Health and admin calls are unary with a short deadline; every failure leaves this file as a
 * GatewayError (status-map.ts).
 */
import { randomBytes } from 'node:crypto';
import { Metadata, type CallOptions, type Channel, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import type { CancelSignal } from '../cancellation.js';
import { channelCredentials, createChannels, type ChannelSettings } from './channel.js';
import { decodeResponse, encodeRequest } from './codec.js';
import type { DiscoveryClient } from './discovery.js';
import { withoutCallerStack } from './without-caller-stack.js';
import {
  type GRPCInferenceServiceClient,
  type ModelInferRequest,
  type ModelMetadataResponse,
  type ModelStreamInferResponse,
  type ModelRepositoryParameter,
  type ModelStatistics,
  type RepositoryIndexResponse_ModelIndex,
  type ServerMetadataResponse,
} from './generated/grpc_service.js';
import { HealthCheckResponse_ServingStatus, HealthClient } from './generated/health.js';
import type { ModelConfig } from './generated/model_config.js';
import { badResponse } from './output-tensors.js';
import { fromStreamErrorMessage, fromUncancelledCallError } from './status-map.js';
import { InferenceServiceClient } from './service-client.js';
import { StreamMux } from './stream-mux.js';
import { StreamReader, cancelledError } from './stream-reader.js';
import type { GenerationDelta, GenerationRequest, InferOptions, ModelSchema } from './types.js';

export interface TritonClientOptions extends ChannelSettings {
  /** `host:port[,host:port...]` or a gRPC URI such as `dns:///triton:8001`. */
  target: string;
  /** A label for logs and metrics; defaults to the target. */
  name?: string;
  /** Deadline of health and admin calls. Default 2 s. */
  adminDeadlineMs?: number;
  /**
   * Open streams with `triton_grpc_error: true` metadata, so backend errors close the stream with
   * a real gRPC status instead of bare text (reference §3.6). Off by default.
   */
  tritonGrpcError?: boolean;
  /** Shared streams for requests made with `multiplex: true` (stream-mux.ts). Default 4. */
  multiplexStreams?: number;
}

/** One response of request `id` to its delta; an `error_message` or a foreign id throws. */
function toDelta(schema: ModelSchema, id: string, res: ModelStreamInferResponse): GenerationDelta {
  if (res.errorMessage !== '') throw fromStreamErrorMessage(res.errorMessage);
  if (res.inferResponse === undefined) throw badResponse('stream response without infer_response or error_message');
  if (res.inferResponse.id !== '' && res.inferResponse.id !== id) {
    throw badResponse(`response for request id '${res.inferResponse.id}' on the stream of '${id}'`);
  }
  return decodeResponse(schema, res.inferResponse);
}

export type HealthStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

const DEFAULT_ADMIN_DEADLINE_MS = 2_000;
const DEFAULT_LOAD_DEADLINE_MS = 120_000;

export class TritonClient implements DiscoveryClient {
  readonly name: string;
  readonly target: string;
  private readonly channels: Channel[];
  private readonly stubs: GRPCInferenceServiceClient[];
  private readonly healthStubs: HealthClient[];
  private readonly adminDeadlineMs: number;
  private readonly grpcErrorMode: boolean;
  private readonly idPrefix = `gw-${randomBytes(4).toString('hex')}-`;
  private idCounter = 0;
  private rotation = 0;
  private readonly muxStreams: number;
  /** Opened on the first multiplexed request. */
  private mux: StreamMux | undefined;

  constructor(options: TritonClientOptions) {
    this.target = options.target;
    this.name = options.name ?? options.target;
    this.adminDeadlineMs = options.adminDeadlineMs ?? DEFAULT_ADMIN_DEADLINE_MS;
    this.grpcErrorMode = options.tritonGrpcError ?? false;
    this.muxStreams = options.multiplexStreams ?? 4;
    const creds = channelCredentials(options.tls);
    this.channels = createChannels(options.target, options, creds);
    // Stubs share their channel, so the inference and health calls reuse the same connections.
    this.stubs = this.channels.map((channel) => new InferenceServiceClient(channel.getTarget(), creds, { channelOverride: channel }));
    this.healthStubs = this.channels.map((channel) => new HealthClient(channel.getTarget(), creds, { channelOverride: channel }));
  }

  private index(): number {
    if (this.channels.length === 1) return 0;
    this.rotation = (this.rotation + 1) % this.channels.length;
    return this.rotation;
  }

  private metadataFor(opts: InferOptions): Metadata {
    const md = new Metadata();
    if (opts.metadata !== undefined) {
      for (const key in opts.metadata) {
        const value = opts.metadata[key];
        if (value !== undefined && !key.endsWith('-bin')) md.set(key, value);
      }
    }
    if (this.grpcErrorMode) md.set('triton_grpc_error', 'true');
    return md;
  }

  /**
   * Streams the deltas of one generation. Ends after the delta with `final: true`; throws a
   * GatewayError otherwise. Breaking out of the loop early cancels the call on Triton.
   */
  async *infer(schema: ModelSchema, req: GenerationRequest, opts: InferOptions = {}): AsyncGenerator<GenerationDelta, void, undefined> {
    const id = opts.requestId ?? this.idPrefix + (++this.idCounter).toString(36);
    const request = encodeRequest(schema, req, id);
    if (opts.version !== undefined) request.modelVersion = opts.version;
    if (opts.signal?.aborted === true) throw cancelledError();
    if (opts.multiplex === true && !req.stream) {
      yield* this.inferMultiplexed(schema, request, opts);
      return;
    }
    const stub = this.stubs[this.index()]!;
    const metadata = this.metadataFor(opts);
    const call = withoutCallerStack(() => stub.modelStreamInfer(metadata, opts.deadline === undefined ? {} : { deadline: opts.deadline }));
    const reader = new StreamReader(call, opts.signal);
    let complete = false;
    try {
      call.write(request);
      call.end();
      for (;;) {
        const res = await reader.next();
        // An error message or a final response: Triton is done with this request.
        complete = res.errorMessage !== '';
        const delta = toDelta(schema, id, res);
        complete = delta.final;
        yield delta;
        if (delta.final) return;
      }
    } finally {
      reader.close(complete);
    }
  }

  /** A non-streamed request on one of the shared streams (stream-mux.ts says what that gives up). */
  private async *inferMultiplexed(schema: ModelSchema, request: ModelInferRequest, opts: InferOptions): AsyncGenerator<GenerationDelta, void, undefined> {
    this.mux ??= new StreamMux((i) => this.stubs[i % this.stubs.length]!.modelStreamInfer(new Metadata()), this.muxStreams);
    const pending = this.mux.submit(request, opts.signal);
    try {
      for (;;) {
        const delta = toDelta(schema, request.id, await pending.next());
        yield delta;
        if (delta.final) return;
      }
    } finally {
      pending.release();
    }
  }

  /** Unary ModelInfer, for non-decoupled models only (Triton answers UNIMPLEMENTED for decoupled ones). */
  inferUnary(schema: ModelSchema, req: GenerationRequest, opts: InferOptions = {}): Promise<GenerationDelta> {
    const id = opts.requestId ?? this.idPrefix + (++this.idCounter).toString(36);
    const request = encodeRequest(schema, { ...req, stream: false }, id);
    if (opts.version !== undefined) request.modelVersion = opts.version;
    const stub = this.stubs[this.index()]!;
    return this.unary(stub.modelInfer.bind(stub), request, opts.deadline, this.metadataFor(opts), opts.signal).then((res) => {
      const delta = decodeResponse(schema, res);
      delta.final = true;
      return delta;
    });
  }

  /** `deadline` absent: no deadline (inference); admin calls always pass one. */
  private unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, deadline: number | undefined, metadata = new Metadata(), signal?: CancelSignal): Promise<Res> {
    if (signal?.aborted === true) return Promise.reject(cancelledError());
    return new Promise<Res>((resolve, reject) => {
      let aborted = false;
      const onAbort = (): void => {
        aborted = true;
        call.cancel();
        reject(cancelledError());
      };
      const call = withoutCallerStack(() => method(request, metadata, deadline === undefined ? {} : { deadline }, (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (aborted) return;
        if (err !== null) reject(fromUncancelledCallError(err));
        else resolve(res);
      }));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private admin<Req, Res>(pick: (stub: GRPCInferenceServiceClient) => UnaryMethod<Req, Res>, request: Req, deadlineMs?: number): Promise<Res> {
    const stub = this.stubs[this.index()]!;
    return this.unary(pick(stub).bind(stub), request, Date.now() + (deadlineMs ?? this.adminDeadlineMs));
  }

  async serverLive(): Promise<boolean> {
    return (await this.admin((s) => s.serverLive, {})).live;
  }

  async serverReady(): Promise<boolean> {
    return (await this.admin((s) => s.serverReady, {})).ready;
  }

  async serverMetadata(): Promise<ServerMetadataResponse> {
    return this.admin((s) => s.serverMetadata, {});
  }

  /** A model Triton does not have is an error (model_not_ready), as Triton answers it, not `false`. */
  async modelReady(name: string, version = ''): Promise<boolean> {
    return (await this.admin((s) => s.modelReady, { name, version })).ready;
  }

  async modelConfig(name: string, version = ''): Promise<ModelConfig> {
    const res = await this.admin((s) => s.modelConfig, { name, version });
    if (res.config === undefined) throw badResponse(`ModelConfig for '${name}' has no config`);
    return res.config;
  }

  async modelMetadata(name: string, version = ''): Promise<ModelMetadataResponse> {
    return this.admin((s) => s.modelMetadata, { name, version });
  }

  async repositoryIndex(readyOnly = false): Promise<RepositoryIndexResponse_ModelIndex[]> {
    return (await this.admin((s) => s.repositoryIndex, { repositoryName: '', ready: readyOnly })).models;
  }

  /** RepositoryModelLoad; `config` (a ModelConfig as JSON) overrides the config on disk. */
  async loadModel(name: string, options: { config?: object; deadlineMs?: number } = {}): Promise<void> {
    const parameters: { [key: string]: ModelRepositoryParameter } = {};
    if (options.config !== undefined) parameters.config = { stringParam: JSON.stringify(options.config) };
    await this.admin((s) => s.repositoryModelLoad, { repositoryName: '', modelName: name, parameters }, options.deadlineMs ?? DEFAULT_LOAD_DEADLINE_MS);
  }

  async unloadModel(name: string, options: { unloadDependents?: boolean; deadlineMs?: number } = {}): Promise<void> {
    const parameters: { [key: string]: ModelRepositoryParameter } = {};
    if (options.unloadDependents !== undefined) parameters.unload_dependents = { boolParam: options.unloadDependents };
    await this.admin((s) => s.repositoryModelUnload, { repositoryName: '', modelName: name, parameters }, options.deadlineMs ?? DEFAULT_LOAD_DEADLINE_MS);
  }

  /** Per-model statistics; all models when `name` is omitted. */
  async modelStatistics(name = '', version = ''): Promise<ModelStatistics[]> {
    return (await this.admin((s) => s.modelStatistics, { name, version })).modelStats;
  }

  /** grpc.health.v1 Check (Triton answers it from server readiness). */
  async healthCheck(service = ''): Promise<HealthStatus> {
    const stub = this.healthStubs[this.index()]!;
    const res = await this.unary(stub.check.bind(stub), { service }, Date.now() + this.adminDeadlineMs);
    return (HealthCheckResponse_ServingStatus[res.status] as HealthStatus | undefined) ?? 'UNKNOWN';
  }

  close(): void {
    this.mux?.close();
    for (const stub of this.stubs) stub.close();
    for (const stub of this.healthStubs) stub.close();
    for (const channel of this.channels) channel.close();
  }
}
