/**
 * The gRPC client class the gateway uses for Triton: the generated GRPCInferenceService client
 * with ModelStreamInfer's responses decoded by stream-response-decoder.ts (the hot path's
 * decoder; every other method keeps the generated codecs). The benchmark's floor uses it too,
 * so both sides decode alike.
 */
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import { GRPCInferenceServiceClient, GRPCInferenceServiceService } from './generated/grpc_service.js';
import { decodeStreamInferResponse } from './stream-response-decoder.js';

const inferenceService = {
  ...GRPCInferenceServiceService,
  modelStreamInfer: { ...GRPCInferenceServiceService.modelStreamInfer, responseDeserialize: decodeStreamInferResponse },
};

export const InferenceServiceClient = makeGenericClientConstructor(inferenceService, 'inference.GRPCInferenceService') as unknown as typeof GRPCInferenceServiceClient;
