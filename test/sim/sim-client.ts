/**
 * A thin test client for the simulator over the generated gRPC code: request builders for each
 * flavour, a stream runner that collects every response and the final status, and output decoding.
 */
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  GRPCInferenceServiceClient,
  type ModelConfigRequest,
  type ModelConfigResponse,
  type ModelMetadataRequest,
  type ModelMetadataResponse,
  type ModelReadyRequest,
  type ModelReadyResponse,
  type ModelStatisticsRequest,
  type ModelStatisticsResponse,
  type RepositoryIndexRequest,
  type RepositoryIndexResponse,
  type RepositoryModelLoadRequest,
  type RepositoryModelLoadResponse,
  type RepositoryModelUnloadRequest,
  type RepositoryModelUnloadResponse,
  type ServerLiveRequest,
  type ServerLiveResponse,
  type ServerMetadataRequest,
  type ServerMetadataResponse,
  type ServerReadyRequest,
  type ServerReadyResponse,
  type InferParameter,
  type ModelInferRequest,
  type ModelInferRequest_InferInputTensor,
  type ModelInferResponse,
  type ModelStreamInferResponse,
} from '../../src/triton/generated/grpc_service.js';
import { decodeBytesTensor, encodeBytesTensor } from '../../src/triton/bytes-tensor.js';

export function connect(address: string): GRPCInferenceServiceClient {
  return new GRPCInferenceServiceClient(address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
}

export type TensorInput = { name: string; datatype: string; shape: number[]; raw: Buffer };

export function bytesInput(name: string, values: string[], shape: number[]): TensorInput {
  return { name, datatype: 'BYTES', shape, raw: encodeBytesTensor(values) };
}

export function scalarInput(name: string, datatype: string, value: number | boolean | bigint, shape: number[]): TensorInput {
  let raw: Buffer;
  switch (datatype) {
    case 'BOOL': raw = Buffer.from([value ? 1 : 0]); break;
    case 'INT32': raw = Buffer.alloc(4); raw.writeInt32LE(Number(value)); break;
    case 'UINT64': raw = Buffer.alloc(8); raw.writeBigUInt64LE(BigInt(value)); break;
    case 'FP32': raw = Buffer.alloc(4); raw.writeFloatLE(Number(value)); break;
    default: throw new Error(`scalarInput: ${datatype}`);
  }
  return { name, datatype, shape, raw };
}

export function inferRequest(
  model: string,
  id: string,
  inputs: TensorInput[],
  parameters: Record<string, InferParameter> = {},
): ModelInferRequest {
  return {
    modelName: model,
    modelVersion: '',
    id,
    parameters,
    inputs: inputs.map((t): ModelInferRequest_InferInputTensor => ({ name: t.name, datatype: t.datatype, shape: t.shape, parameters: {}, contents: undefined })),
    outputs: [],
    rawInputContents: inputs.map((t) => t.raw),
  };
}

export interface TrtllmOptions {
  prompt: string;
  maxTokens: number;
  stream?: boolean;
  seed?: number;
  temperature?: number;
  stop?: string[];
  exclude?: boolean;
  counts?: boolean;
  perf?: boolean;
}

/** An ensemble/BLS request with every tensor carrying the leading batch dim ([1,1]). */
export function trtllmRequest(model: string, id: string, o: TrtllmOptions, emptyFinal = true): ModelInferRequest {
  const inputs: TensorInput[] = [
    bytesInput('text_input', [o.prompt], [1, 1]),
    scalarInput('max_tokens', 'INT32', o.maxTokens, [1, 1]),
    scalarInput('stream', 'BOOL', o.stream ?? false, [1, 1]),
  ];
  if (o.seed !== undefined) inputs.push(scalarInput('seed', 'UINT64', o.seed, [1, 1]));
  if (o.temperature !== undefined) inputs.push(scalarInput('temperature', 'FP32', o.temperature, [1, 1]));
  if (o.stop !== undefined) inputs.push(bytesInput('stop_words', o.stop, [1, o.stop.length]));
  if (o.exclude !== undefined) inputs.push(scalarInput('exclude_input_in_output', 'BOOL', o.exclude, [1, 1]));
  if (o.counts ?? true) {
    inputs.push(scalarInput('return_num_input_tokens', 'BOOL', true, [1, 1]));
    inputs.push(scalarInput('return_num_output_tokens', 'BOOL', true, [1, 1]));
  }
  if (o.perf) inputs.push(scalarInput('return_perf_metrics', 'BOOL', true, [1, 1]));
  return inferRequest(model, id, inputs, emptyFinal ? { triton_enable_empty_final_response: { boolParam: true } } : {});
}

export interface VllmOptions {
  prompt: string;
  stream?: boolean;
  sampling?: Record<string, unknown>;
  exclude?: boolean;
  finishReason?: boolean;
}

/** A vLLM request: no batch dim, sampling parameters as a JSON string tensor. */
export function vllmRequest(model: string, id: string, o: VllmOptions): ModelInferRequest {
  const inputs: TensorInput[] = [bytesInput('text_input', [o.prompt], [1]), scalarInput('stream', 'BOOL', o.stream ?? false, [1])];
  if (o.sampling !== undefined) inputs.push(bytesInput('sampling_parameters', [JSON.stringify(o.sampling)], [1]));
  if (o.exclude !== undefined) inputs.push(scalarInput('exclude_input_in_output', 'BOOL', o.exclude, [1]));
  if (o.finishReason) inputs.push(scalarInput('return_finish_reason', 'BOOL', true, [1]));
  inputs.push(scalarInput('return_num_input_tokens', 'BOOL', true, [1]));
  inputs.push(scalarInput('return_num_output_tokens', 'BOOL', true, [1]));
  return inferRequest(model, id, inputs, { triton_enable_empty_final_response: { boolParam: true } });
}

export interface StreamResult {
  responses: ModelStreamInferResponse[];
  /** The call's final status: code 0 = OK. */
  code: number;
  details: string;
}

/**
 * Sends requests on one ModelStreamInfer call and half-closes, then collects until the call
 * ends. `cancelWhen` cancels the call from the client once a response satisfies it.
 */
export function runStream(
  client: GRPCInferenceServiceClient,
  requests: ModelInferRequest[],
  opts: { metadata?: Metadata; cancelWhen?: (r: ModelStreamInferResponse, all: ModelStreamInferResponse[]) => boolean; halfClose?: boolean } = {},
): Promise<StreamResult> {
  return new Promise((resolve) => {
    const call = client.modelStreamInfer(opts.metadata ?? new Metadata());
    const responses: ModelStreamInferResponse[] = [];
    call.on('data', (r: ModelStreamInferResponse) => {
      responses.push(r);
      if (opts.cancelWhen?.(r, responses)) call.cancel();
    });
    call.on('error', (err: ServiceError) => resolve({ responses, code: err.code, details: err.details }));
    call.on('end', () => resolve({ responses, code: 0, details: '' }));
    for (const r of requests) call.write(r);
    if (opts.halfClose ?? true) call.end();
  });
}

/** Request and response types of the unary RPCs, so `unary(client, 'modelConfig', req)` is typed. */
interface UnaryRpcs {
  serverLive: [ServerLiveRequest, ServerLiveResponse];
  serverReady: [ServerReadyRequest, ServerReadyResponse];
  modelReady: [ModelReadyRequest, ModelReadyResponse];
  serverMetadata: [ServerMetadataRequest, ServerMetadataResponse];
  modelMetadata: [ModelMetadataRequest, ModelMetadataResponse];
  modelInfer: [ModelInferRequest, ModelInferResponse];
  modelConfig: [ModelConfigRequest, ModelConfigResponse];
  modelStatistics: [ModelStatisticsRequest, ModelStatisticsResponse];
  repositoryIndex: [RepositoryIndexRequest, RepositoryIndexResponse];
  repositoryModelLoad: [RepositoryModelLoadRequest, RepositoryModelLoadResponse];
  repositoryModelUnload: [RepositoryModelUnloadRequest, RepositoryModelUnloadResponse];
}

export function unary<K extends keyof UnaryRpcs>(client: GRPCInferenceServiceClient, method: K, req: UnaryRpcs[K][0]): Promise<UnaryRpcs[K][1]> {
  const fn = client[method] as unknown as (r: unknown, md: Metadata, cb: (err: ServiceError | null, res: UnaryRpcs[K][1]) => void) => unknown;
  return new Promise((resolve, reject) => fn.call(client, req, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))));
}

export function isFinal(r: ModelInferResponse | undefined): boolean {
  return r?.parameters.triton_final_response?.boolParam === true;
}

/** The raw bytes of output `name` (matched by index into raw_output_contents). */
export function outputRaw(r: ModelInferResponse, name: string): Buffer | undefined {
  const i = r.outputs.findIndex((o) => o.name === name);
  return i < 0 ? undefined : r.rawOutputContents[i];
}

export function outputText(r: ModelInferResponse, name = 'text_output'): string | undefined {
  const raw = outputRaw(r, name);
  return raw === undefined ? undefined : decodeBytesTensor(raw).map((b) => b.toString('utf8')).join('');
}

export function outputInt(r: ModelInferResponse, name: string): number | undefined {
  const raw = outputRaw(r, name);
  if (raw === undefined) return undefined;
  const o = r.outputs.find((x) => x.name === name)!;
  switch (o.datatype) {
    case 'INT32': return raw.readInt32LE(0);
    case 'UINT32': return raw.readUInt32LE(0);
    case 'INT64': return Number(raw.readBigInt64LE(0));
    case 'FP32': return raw.readFloatLE(0);
    default: throw new Error(`outputInt: ${o.datatype}`);
  }
}

/** Data responses for one id: responses with outputs (flag-only finals excluded). */
export function dataResponses(result: StreamResult, id?: string): ModelInferResponse[] {
  return result.responses
    .map((r) => r.inferResponse)
    .filter((r): r is ModelInferResponse => r !== undefined && r.outputs.length > 0 && (id === undefined || r.id === id));
}

export function streamedText(result: StreamResult, id?: string): string {
  return dataResponses(result, id).map((r) => outputText(r) ?? '').join('');
}

export interface OpenStream {
  responses: ModelStreamInferResponse[];
  cancel(): void;
  /** Settles when the call ends (OK, an error status, or CANCELLED after cancel()). */
  ended: Promise<StreamResult>;
}

/** Starts a ModelStreamInfer call without half-closing it, for tests that cancel or watch it. */
export function openStream(client: GRPCInferenceServiceClient, requests: ModelInferRequest[], metadata = new Metadata()): OpenStream {
  const call = client.modelStreamInfer(metadata);
  const responses: ModelStreamInferResponse[] = [];
  call.on('data', (r: ModelStreamInferResponse) => responses.push(r));
  const ended = new Promise<StreamResult>((resolve) => {
    call.on('error', (err: ServiceError) => resolve({ responses, code: err.code, details: err.details }));
    call.on('end', () => resolve({ responses, code: 0, details: '' }));
  });
  for (const r of requests) call.write(r);
  return { responses, cancel: () => call.cancel(), ended };
}
