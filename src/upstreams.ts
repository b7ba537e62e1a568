/**
 * One TritonClient per configured target, seen by the inference core as an Upstream.
 */
import type { GatewayConfig } from './config.js';
import type { Upstream } from './inference/upstream.js';
import { TritonClient } from './triton/client.js';
import { describeModel, listLlmModels } from './triton/discovery.js';

export function tritonUpstream(client: TritonClient): Upstream {
  return {
    name: client.name,
    infer: (schema, request, options) => client.infer(schema, request, options),
    serverReady: () => client.serverReady(),
    modelReady: (model, version) => client.modelReady(model, version ?? ''),
    describeModel: (model, version) => describeModel(client, model, version),
    listLlmModels: () => listLlmModels(client),
    loadModel: (model, options) => client.loadModel(model, options ?? {}),
    unloadModel: (model) => client.unloadModel(model),
    close: () => client.close(),
  };
}

export function createTritonClients(config: GatewayConfig): Map<string, TritonClient> {
  return new Map(
    config.triton.targets.map((t) => [
      t.name,
      new TritonClient({ target: t.grpc, name: t.name, tls: t.tls, tritonGrpcError: config.triton.grpcErrorMode, multiplexStreams: config.triton.multiplexStreams }),
    ]),
  );
}
