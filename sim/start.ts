/**
 * startSimulator(): builds the core from options (or a YAML file, or the defaults) and starts
 * the gRPC, HTTP and metrics servers on loopback (port 0 = a free port each).
 */
import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { Server as HttpServer } from 'node:http';
import type { FaultSpec, GpuConfig, LatencyConfig, RunningSimulator, SimModelConfig, StartSimulatorOptions } from './types.js';
import { defaultModels } from './config/default-models.js';
import { loadSimFile } from './config/models-file.js';
import { gpuSchema, latencySchema, modelSchema, parseOrThrow } from './config/schema.js';
import { defineModel, ZERO_LATENCY } from './model/model-definition.js';
import { SimulatorCore } from './engine/simulator-core.js';
import { DEFAULT_GPUS } from './engine/gpu-pool.js';
import { startGrpcServer, stopGrpcServer } from './grpc/server.js';
import { closeHttpServer, startHttpServer, startMetricsServer } from './http/server.js';

export async function startSimulator(options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  const file = options.modelsFile !== undefined ? loadSimFile(options.modelsFile) : undefined;
  const models = (options.models ?? (file?.models as SimModelConfig[] | undefined) ?? defaultModels()).map(
    (m) => parseOrThrow(modelSchema, m, `model ${m.name ?? '?'}`) as SimModelConfig,
  );
  const latency: LatencyConfig = {
    ...ZERO_LATENCY,
    ...(file?.latency ?? {}),
    ...parseOrThrow(latencySchema, options.latency ?? {}, 'latency'),
  };
  const gpus = (options.gpus ?? file?.gpus ?? DEFAULT_GPUS).map((g) => parseOrThrow(gpuSchema, g, `gpu ${g.uuid}`) as GpuConfig);
  const core = new SimulatorCore({
    models: models.map((m) => defineModel(m, latency, gpus.length)),
    gpus,
    seed: options.seed ?? file?.seed ?? 0,
    recordLimit: options.recordLimit ?? 1000,
    logRequests: options.logRequests ?? false,
  });

  let grpc: { server: GrpcServer; port: number } | undefined;
  let http: { server: HttpServer; port: number } | undefined;
  let metrics: { server: HttpServer; port: number } | undefined;
  const stop = async () => {
    core.stop();
    await Promise.all([
      grpc ? stopGrpcServer(grpc.server) : undefined,
      http ? closeHttpServer(http.server) : undefined,
      metrics ? closeHttpServer(metrics.server) : undefined,
    ]);
  };
  try {
    grpc = await startGrpcServer(core, host, options.grpcPort ?? 0);
    http = await startHttpServer(core, host, options.httpPort ?? 0);
    metrics = await startMetricsServer(core, host, options.metricsPort ?? 0);
  } catch (err) {
    await stop();
    throw err;
  }

  const display = host.includes(':') ? `[${host}]` : host;
  return {
    grpcAddress: `${display}:${grpc.port}`,
    httpUrl: `http://${display}:${http.port}`,
    metricsUrl: `http://${display}:${metrics.port}/metrics`,
    setFault: (model: string, fault: FaultSpec) => void core.setFault(model, fault),
    clearFaults: (model?: string) => core.faults.clear(model),
    received: () => core.recorder.list(),
    state: () => core.state(),
    reset: () => core.reset(),
    setServerReady: (ready: boolean) => {
      core.ready = ready;
    },
    stop,
  };
}
