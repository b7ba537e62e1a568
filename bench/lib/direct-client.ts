/**
 * The floor: the same generation requests sent straight to the simulator with a bare grpc-js
 * client, one ModelStreamInfer per request as the gateway does. The request messages come from
 * the gateway's own codec, so both paths put identical bytes on the wire; only the gateway's
 * work is missing.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { channelOptions } from '../../src/triton/channel.js';
import { TritonClient } from '../../src/triton/client.js';
import { encodeRequest } from '../../src/triton/codec.js';
import { describeModel } from '../../src/triton/discovery.js';
import type { ModelInferRequest, ModelStreamInferResponse } from '../../src/triton/generated/grpc_service.js';
import { installFlatCallTables } from '../../src/triton/flat-call-tables.js';
import { installLeanAsyncResourceBind } from '../../src/triton/lean-async-resource-bind.js';
import { InferenceServiceClient } from '../../src/triton/service-client.js';
import { benchPrompt, promptCount } from './gateway-client.js';
import type { StreamTimings } from './stream-timings.js';

export interface DirectClient {
  complete(index: number): Promise<void>;
  /**
   * The floor for a gateway whose model has `multiplex: true`: the same request on one of
   * `sharedStreams` long-lived streams, answers matched by request id.
   */
  completeShared(index: number): Promise<void>;
  stream(index: number, scheduledAt: number, timings: StreamTimings, maxTokens?: number): Promise<void>;
  close(): void;
}

export async function directClient(grpcAddress: string, tritonModel: string, opts: { maxTokens: number; streamTokens: number }): Promise<DirectClient> {
  // The floor gets the gateway's workaround too, or its own scavenge pauses would hide the gateway's.
  installLeanAsyncResourceBind();
  installFlatCallTables();
  const admin = new TritonClient({ target: grpcAddress });
  const schema = await describeModel(admin, tritonModel).finally(() => admin.close());
  const stub = new InferenceServiceClient(grpcAddress, credentials.createInsecure(), channelOptions());
  const request = (i: number, maxTokens: number, stream: boolean): ModelInferRequest =>
    encodeRequest(schema, { prompt: benchPrompt(i), maxTokens, stream, echo: false }, '');
  // Encoded once per prompt (the gateway encodes per request; the floor should not).
  const plain = Array.from({ length: promptCount }, (_, i) => request(i, opts.maxTokens, false));
  const streamed = new Map<number, ModelInferRequest[]>();
  const streamRequest = (index: number, maxTokens: number): ModelInferRequest => {
    let list = streamed.get(maxTokens);
    if (!list) {
      list = Array.from({ length: promptCount }, (_, i) => request(i, maxTokens, true));
      streamed.set(maxTokens, list);
    }
    return list[index % promptCount]!;
  };
  let ids = 0;

  function call(req: ModelInferRequest, onData: (res: ModelStreamInferResponse) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      const c = stub.modelStreamInfer(new Metadata());
      c.on('data', (res: ModelStreamInferResponse) => {
        if (res.errorMessage !== '') return settle(new Error(res.errorMessage));
        onData(res);
        // Like the gateway: done at Triton's final response, not at the RPC's status.
        if (res.inferResponse?.parameters.triton_final_response?.boolParam === true) settle();
      });
      c.on('error', (err: Error) => settle(err));
      c.on('end', () => settle(new Error('stream ended without a final response')));
      c.write({ ...req, id: `direct-${++ids}` });
      c.end();
    });
  }

  // The floor of the shared-streams configuration: as many long-lived streams as the gateway's
  // default (triton.multiplexStreams), opened on first use, answers routed by id.
  const sharedStreams = 4;
  const waiting = new Map<string, { data: number; settle: (err?: Error) => void }>();
  const shared: Array<ReturnType<typeof stub.modelStreamInfer>> = [];
  let turn = 0;
  function sharedStream(): ReturnType<typeof stub.modelStreamInfer> {
    const at = turn++ % sharedStreams;
    if (shared[at]) return shared[at]!;
    const c = stub.modelStreamInfer(new Metadata());
    c.on('data', (res: ModelStreamInferResponse) => {
      const w = waiting.get(res.inferResponse?.id ?? '');
      if (!w) return;
      if (res.errorMessage !== '') {
        waiting.delete(res.inferResponse!.id);
        return w.settle(new Error(res.errorMessage));
      }
      if ((res.inferResponse?.outputs.length ?? 0) > 0) w.data++;
      if (res.inferResponse?.parameters.triton_final_response?.boolParam === true) {
        waiting.delete(res.inferResponse.id);
        w.settle(w.data > 0 ? undefined : new Error('no data response'));
      }
    });
    const fail = (err: Error): void => {
      for (const w of waiting.values()) w.settle(err);
      waiting.clear();
      shared.length = 0;
    };
    c.on('error', fail);
    c.on('end', () => fail(new Error('shared stream ended')));
    shared[at] = c;
    return c;
  }

  return {
    completeShared(index) {
      return new Promise((resolve, reject) => {
        const id = `direct-${++ids}`;
        waiting.set(id, { data: 0, settle: (err) => (err ? reject(err) : resolve()) });
        sharedStream().write({ ...plain[index % promptCount]!, id });
      });
    },
    complete(index) {
      let data = 0;
      return call(plain[index % promptCount]!, (res) => {
        if ((res.inferResponse?.outputs.length ?? 0) > 0) data++;
      }).then(() => {
        if (data === 0) throw new Error('no data response');
      });
    },
    stream(index, scheduledAt, timings, maxTokens = opts.streamTokens) {
      const handle = timings.begin(scheduledAt);
      return call(streamRequest(index, maxTokens), (res) => {
        if ((res.inferResponse?.outputs.length ?? 0) > 0) handle.token(performance.now());
      }).finally(() => handle.close());
    },
    close() {
      for (const c of shared) c?.end();
      stub.close();
    },
  };
}
