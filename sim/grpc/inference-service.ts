/**
 * The GRPCInferenceService implementation: unary RPCs here, ModelStreamInfer in stream-infer.ts.
 * Errors are real gRPC statuses with Triton's messages (shared/triton-protocol.md §8).
 */
import { status, type sendUnaryData, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import type {
  GRPCInferenceServiceServer,
  ModelInferResponse,
  ModelStatistics,
  StatisticDuration,
} from '../../src/triton/generated/grpc_service.js';
import type { SimulatorCore } from '../engine/simulator-core.js';
import type { ResponseSink } from '../engine/response-sink.js';
import { buildModelConfig, buildModelMetadata } from '../model/model-config.js';
import { SimError, statusFromName } from '../protocol/sim-error.js';
import { wireFromGrpc } from '../protocol/infer-request.js';
import { NO_PARAMETERS, inferResponse } from './infer-response.js';
import { handleStreamInfer } from './stream-infer.js';
import type { Duration } from '../engine/model-stats.js';
import { SERVER_EXTENSIONS, SERVER_NAME, SERVER_VERSION } from '../server-identity.js';

function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof SimError) return { code: err.code, details: err.message };
  return { code: status.INTERNAL, details: (err as Error)?.message ?? String(err) };
}

/** Runs `fn` and answers with its value, or with the error it threw as a gRPC status. */
function answer<Req, Res>(fn: (req: Req) => Res) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    let value: Res;
    try {
      value = fn(call.request);
    } catch (err) {
      callback(toServiceError(err));
      return;
    }
    callback(null, value);
  };
}

function refuseUnlessReady(core: SimulatorCore): void {
  if (!core.ready) throw new SimError(status.UNAVAILABLE, 'Server not ready');
}

const duration = (d: Duration): StatisticDuration => ({ count: d.count, ns: String(Math.round(d.ns)) });

export function inferenceService(core: SimulatorCore): GRPCInferenceServiceServer {
  const repo = core.repository;
  return {
    serverLive: answer(() => ({ live: true })),
    serverReady: answer(() => ({ ready: core.ready })),
    modelReady: answer((req) => {
      repo.resolve(req.name, req.version);
      const fault = core.faults.pick(req.name, 'model-ready');
      if (fault?.kind === 'model-ready-error') throw new SimError(statusFromName(fault.code)!, fault.message);
      return { ready: true };
    }),
    serverMetadata: answer(() => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [...SERVER_EXTENSIONS] })),
    modelMetadata: answer((req) => {
      const served = repo.resolve(req.name, req.version);
      const versions = req.version !== '' ? [req.version] : repo.readyVersions(req.name).map(String);
      return buildModelMetadata(served.model, versions);
    }),
    modelConfig: answer((req) => {
      const served = repo.resolve(req.name, req.version);
      return { config: buildModelConfig(served.model, served.version) };
    }),
    modelStatistics: answer((req) => {
      const names = req.name === '' ? repo.models().map((m) => m.name) : [repo.resolve(req.name, req.version).model.name];
      const out: ModelStatistics[] = [];
      for (const name of names) {
        const versions = req.version !== '' ? [Number(req.version)] : repo.readyVersions(name);
        const counters = core.countersFor(name)!;
        for (const v of versions) {
          const s = counters.version(v);
          out.push({
            name,
            version: String(v),
            lastInference: s.lastInference,
            inferenceCount: s.inferenceCount,
            executionCount: s.executionCount,
            inferenceStats: {
              success: duration(s.success),
              fail: duration(s.fail),
              queue: duration(s.queue),
              computeInput: duration(s.computeInput),
              computeInfer: duration(s.computeInfer),
              computeOutput: duration(s.computeOutput),
              cacheHit: { count: 0, ns: '0' },
              cacheMiss: { count: 0, ns: '0' },
            },
            batchStats: [],
            memoryUsage: [],
            responseStats: {},
          });
        }
      }
      return { modelStats: out };
    }),
    // Server-level operations, which Triton's core refuses while the server is not ready (§8).
    repositoryIndex: answer((req) => {
      refuseUnlessReady(core);
      return { models: repo.index(req.ready) };
    }),
    repositoryModelLoad: (call, callback) => {
      const req = call.request;
      const load = answer<typeof req, Record<string, never>>(() => {
        repo.load(req.modelName, req.parameters.config?.stringParam);
        return {};
      });
      try {
        refuseUnlessReady(core);
      } catch (err) {
        callback(toServiceError(err));
        return;
      }
      // A slow load (fault `slow-load`) is accepted at once and takes effect after its delay, as
      // Triton's own load does, so that what happens meanwhile can be tested.
      const fault = core.faults.pick(req.modelName, 'load');
      if (fault?.kind === 'slow-load' && fault.ms > 0) setTimeout(() => load(call, callback), fault.ms);
      else load(call, callback);
    },
    repositoryModelUnload: answer((req) => {
      refuseUnlessReady(core);
      repo.unload(req.modelName);
      return {};
    }),
    modelInfer: (call, callback) => {
      let responded = false;
      let stored: ModelInferResponse | undefined;
      const respond = (err: Partial<ServiceError> | null, value?: ModelInferResponse) => {
        if (responded) return;
        responded = true;
        if (err) callback(err);
        else callback(null, value);
      };
      const sink: ResponseSink = {
        data(head, outputs, _final, malformed) {
          stored = inferResponse(head, outputs, NO_PARAMETERS, malformed);
        },
        flagOnlyFinal() {},
        error(_head, err) {
          respond(toServiceError(err));
        },
        endCall(code, message) {
          if (code === 'OK') respond(null, stored);
          else respond({ code, details: message });
        },
        done() {
          if (stored !== undefined) respond(null, stored);
        },
      };
      const run = core.submit(wireFromGrpc(call.request), sink, { transport: 'grpc-unary', metadata: call.metadata, unary: true });
      if (run !== undefined) call.on('cancelled', () => run.cancel());
    },
    modelStreamInfer: (call) => handleStreamInfer(core, call),
  };
}
