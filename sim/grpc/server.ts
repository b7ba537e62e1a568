/**
 * The gRPC server: GRPCInferenceService plus grpc.health.v1, answering from server readiness
 * (SERVING / NOT_SERVING) as Triton does. Message limits are INT_MAX like Triton's.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { GRPCInferenceServiceService } from '../../src/triton/generated/grpc_service.js';
import { HealthCheckResponse_ServingStatus, HealthService, type HealthServer } from '../../src/triton/generated/health.js';
import type { SimulatorCore } from '../engine/simulator-core.js';
import { inferenceService } from './inference-service.js';

const INT_MAX = 2147483647;

export async function startGrpcServer(core: SimulatorCore, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = new Server({
    'grpc.max_receive_message_length': INT_MAX,
    'grpc.max_send_message_length': INT_MAX,
  });
  server.addService(GRPCInferenceServiceService, inferenceService(core));
  const health: HealthServer = {
    check: (_call, callback) =>
      callback(null, { status: core.ready ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING }),
  };
  server.addService(HealthService, health);
  const bound = await new Promise<number>((resolve, reject) => {
    // An IPv6 literal needs brackets before its port (`[::1]:8001`).
    const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, port: bound };
}

export function stopGrpcServer(server: Server, graceMs = 500): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
