/**
 * Building ModelInferResponse messages: outputs metadata in `outputs`, data always in
 * raw_output_contents (one entry per output, same order), never in `contents`.
 */
import type { InferParameter, ModelInferResponse } from '../../src/triton/generated/grpc_service.js';
import type { OutputTensor } from '../engine/output-tensor.js';
import type { ResponseHead } from '../engine/response-sink.js';

export const FINAL_TRUE: { [key: string]: InferParameter } = { triton_final_response: { boolParam: true } };
export const FINAL_FALSE: { [key: string]: InferParameter } = { triton_final_response: { boolParam: false } };
export const NO_PARAMETERS: { [key: string]: InferParameter } = {};

export function inferResponse(
  head: ResponseHead,
  outputs: OutputTensor[],
  parameters: { [key: string]: InferParameter },
  malformed?: 'raw-count-mismatch',
): ModelInferResponse {
  const metas = new Array(outputs.length);
  const raws = new Array<Buffer>(outputs.length);
  for (let i = 0; i < outputs.length; i++) {
    const o = outputs[i]!;
    metas[i] = { name: o.name, datatype: o.datatype, shape: o.shape, parameters: NO_PARAMETERS, contents: undefined };
    raws[i] = o.raw;
  }
  if (malformed === 'raw-count-mismatch') raws.pop();
  return { modelName: head.modelName, modelVersion: head.modelVersion, id: head.id, parameters, outputs: metas, rawOutputContents: raws };
}

/** What an error response keeps: the id, plus model name/version and the FINAL flag for backend errors. */
export function errorInferResponse(head: ResponseHead, backend: boolean, final: boolean): ModelInferResponse {
  return {
    modelName: backend ? head.modelName : '',
    modelVersion: backend ? head.modelVersion : '',
    id: head.id,
    parameters: backend ? (final ? FINAL_TRUE : FINAL_FALSE) : NO_PARAMETERS,
    outputs: [],
    rawOutputContents: [],
  };
}
