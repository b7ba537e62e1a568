import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../../src/errors.js';
import { encodeBytesTensor } from '../../../src/triton/bytes-tensor.js';
import { decodeResponse, encodeRequest } from '../../../src/triton/codec.js';
import { schemaFromConfig } from '../../../src/triton/discovery.js';
import { ModelInferRequest, ModelInferResponse } from '../../../src/triton/generated/grpc_service.js';
import type { GenerationRequest, ModelSchema } from '../../../src/triton/types.js';
import { llmapiConfig, trtllmEnsembleConfig, vllmConfig } from '../../fixtures/model-configs.js';

const trtllm = schemaFromConfig(trtllmEnsembleConfig());
const vllm = schemaFromConfig(vllmConfig());
const llmapi = schemaFromConfig(llmapiConfig());

const base: GenerationRequest = { prompt: 'héllo 世界', maxTokens: 16, stream: true, echo: false };

function input(req: ModelInferRequest, name: string): { datatype: string; shape: number[]; raw: Buffer } {
  const i = req.inputs.findIndex((t) => t.name === name);
  assert.notEqual(i, -1, `input ${name} missing; have ${req.inputs.map((t) => t.name).join(',')}`);
  const t = req.inputs[i]!;
  return { datatype: t.datatype, shape: t.shape, raw: req.rawInputContents[i]! };
}

function names(req: ModelInferRequest): string[] {
  return req.inputs.map((t) => t.name).sort();
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const i64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b;
};
const f32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(n);
  return b;
};

type Out = [name: string, datatype: string, shape: number[], raw: Buffer];
function response(outs: Out[], final = false): ModelInferResponse {
  return ModelInferResponse.fromPartial({
    modelName: 'm',
    modelVersion: '1',
    id: 'r1',
    parameters: { triton_final_response: { boolParam: final } },
    outputs: outs.map(([name, datatype, shape]) => ({ name, datatype, shape })),
    rawOutputContents: outs.map((o) => o[3]),
  });
}

function assertGatewayError(fn: () => unknown, code: string, param?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GatewayError, `expected GatewayError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (param !== undefined) assert.equal(err.param, param);
    return true;
  });
}

describe('encodeRequest: common', () => {
  it('sets the id, model name and triton_enable_empty_final_response, and sends raw contents only', () => {
    const req = encodeRequest(vllm, base, 'req-1');
    assert.equal(req.id, 'req-1');
    assert.equal(req.modelName, 'qwen3');
    assert.deepEqual(req.parameters, { triton_enable_empty_final_response: { boolParam: true } });
    assert.equal(req.rawInputContents.length, req.inputs.length);
    for (const t of req.inputs) assert.equal(t.contents, undefined);
    assert.deepEqual(req.outputs, []);
  });

  it('survives a protobuf round trip unchanged', () => {
    const req = encodeRequest(trtllm, { ...base, stop: ['\n', 'END'], seed: 7 }, 'rt');
    const back = ModelInferRequest.decode(ModelInferRequest.encode(req).finish());
    assert.deepEqual(names(back), names(req));
    assert.deepEqual(input(back, 'stop_words').raw, encodeBytesTensor(['\n', 'END']));
  });
});

describe('encodeRequest: TRT-LLM ensemble (batch dim)', () => {
  const full: GenerationRequest = {
    ...base,
    temperature: 0.5,
    topP: 0.9,
    topK: 40,
    seed: 12345678901,
    stop: ['\n\n', 'END'],
    presencePenalty: 0.25,
    frequencyPenalty: -0.5,
    repetitionPenalty: 1.1,
    minTokens: 2,
  };
  const req = encodeRequest(trtllm, full, 'x');

  it('sends exactly the inputs it needs', () => {
    assert.deepEqual(
      names(req),
      [
        'exclude_input_in_output',
        'frequency_penalty',
        'max_tokens',
        'min_tokens',
        'presence_penalty',
        'repetition_penalty',
        'return_num_input_tokens',
        'return_num_output_tokens',
        'return_perf_metrics',
        'seed',
        'stop_words',
        'stream',
        'temperature',
        'text_input',
        'top_k',
        'top_p',
      ].sort(),
    );
  });

  it('text_input is BYTES [1,1] with a 4-byte LE length prefix', () => {
    const t = input(req, 'text_input');
    assert.equal(t.datatype, 'BYTES');
    assert.deepEqual(t.shape, [1, 1]);
    assert.deepEqual(t.raw, Buffer.concat([u32(Buffer.byteLength(base.prompt)), Buffer.from(base.prompt)]));
  });

  it('numbers use the model dtypes, little-endian', () => {
    assert.deepEqual(input(req, 'max_tokens'), { datatype: 'INT32', shape: [1, 1], raw: i32(16) });
    assert.deepEqual(input(req, 'top_k'), { datatype: 'INT32', shape: [1, 1], raw: i32(40) });
    assert.deepEqual(input(req, 'min_tokens').raw, i32(2));
    assert.deepEqual(input(req, 'temperature'), { datatype: 'FP32', shape: [1, 1], raw: f32(0.5) });
    assert.deepEqual(input(req, 'top_p').raw, f32(0.9));
    assert.deepEqual(input(req, 'presence_penalty').raw, f32(0.25));
    assert.deepEqual(input(req, 'frequency_penalty').raw, f32(-0.5));
    assert.deepEqual(input(req, 'repetition_penalty').raw, f32(1.1));
    const seed = input(req, 'seed');
    assert.equal(seed.datatype, 'UINT64');
    assert.equal(seed.raw.length, 8);
    assert.equal(seed.raw.readBigUInt64LE(0), 12345678901n);
  });

  it('BOOLs are one byte; exclude_input_in_output is always true (echo is the gateway’s job)', () => {
    assert.deepEqual(input(req, 'stream'), { datatype: 'BOOL', shape: [1, 1], raw: Buffer.from([1]) });
    assert.deepEqual(input(req, 'exclude_input_in_output').raw, Buffer.from([1]));
    const echoed = encodeRequest(trtllm, { ...base, echo: true, stream: false }, 'e');
    assert.deepEqual(input(echoed, 'exclude_input_in_output').raw, Buffer.from([1]));
    assert.deepEqual(input(echoed, 'stream').raw, Buffer.from([0]));
    assert.deepEqual(input(req, 'return_num_input_tokens').raw, Buffer.from([1]));
    assert.deepEqual(input(req, 'return_perf_metrics').raw, Buffer.from([1]));
  });

  it('stop_words is BYTES [1,n]', () => {
    const t = input(req, 'stop_words');
    assert.deepEqual(t.shape, [1, 2]);
    assert.deepEqual(t.raw, Buffer.concat([u32(2), Buffer.from('\n\n'), u32(3), Buffer.from('END')]));
  });

  it('leaves unset sampling fields out entirely', () => {
    const minimal = encodeRequest(trtllm, base, 'm');
    assert.deepEqual(
      names(minimal),
      ['exclude_input_in_output', 'max_tokens', 'return_num_input_tokens', 'return_num_output_tokens', 'return_perf_metrics', 'stream', 'text_input'],
    );
  });

  it('asks for perf metrics only when the model has perf outputs', () => {
    const noPerf = schemaFromConfig(trtllmEnsembleConfig({ perf: false }));
    assert.ok(!names(encodeRequest(noPerf, base, 'p')).includes('return_perf_metrics'));
  });

  it('skips the token-count switches on an older ensemble without them', () => {
    const old = schemaFromConfig(trtllmEnsembleConfig({ tokenCounts: false }));
    const n = names(encodeRequest(old, base, 'o'));
    assert.ok(!n.includes('return_num_input_tokens') && !n.includes('return_num_output_tokens'));
  });

  it('guided decoding goes to guided_decoding_guide_type / guided_decoding_guide', () => {
    const g = encodeRequest(trtllm, { ...base, guidedDecoding: { type: 'json_schema', guide: '{"type":"object"}' } }, 'g');
    assert.deepEqual(input(g, 'guided_decoding_guide_type').raw, encodeBytesTensor(['json_schema']));
    assert.deepEqual(input(g, 'guided_decoding_guide').raw, encodeBytesTensor(['{"type":"object"}']));
    assert.deepEqual(input(g, 'guided_decoding_guide').shape, [1, 1]);
  });

  it('guided decoding on a model without it is a 400 unsupported_parameter', () => {
    const plain = schemaFromConfig(trtllmEnsembleConfig({ guided: false }));
    assertGatewayError(() => encodeRequest(plain, { ...base, guidedDecoding: { type: 'json', guide: '' } }, 'g'), 'unsupported_parameter', 'response_format');
  });

  it('a negative seed cannot go into UINT64', () => {
    assertGatewayError(() => encodeRequest(trtllm, { ...base, seed: -1 }, 's'), 'unsupported_parameter', 'seed');
  });

  it('a non-integer max_tokens is refused rather than truncated', () => {
    assertGatewayError(() => encodeRequest(trtllm, { ...base, maxTokens: 1.5 }, 's'), 'unsupported_parameter', 'max_tokens');
  });
});

describe('encodeRequest: vLLM (no batch dim)', () => {
  it('sends text, stream, echo switch, JSON sampling parameters and return_* switches with config dims', () => {
    const req = encodeRequest(vllm, { ...base, stream: false, temperature: 0, topP: 0.5, topK: 3, seed: 9, stop: ['.'], presencePenalty: 0.1, frequencyPenalty: 0.2, repetitionPenalty: 1.3, minTokens: 4 }, 'v');
    assert.deepEqual(names(req), [
      'exclude_input_in_output',
      'return_finish_reason',
      'return_num_input_tokens',
      'return_num_output_tokens',
      'sampling_parameters',
      'stream',
      'text_input',
    ]);
    assert.deepEqual(input(req, 'text_input').shape, [1]);
    assert.deepEqual(input(req, 'stream'), { datatype: 'BOOL', shape: [1], raw: Buffer.from([0]) });
    assert.deepEqual(input(req, 'exclude_input_in_output').raw, Buffer.from([1]));
    const sp = input(req, 'sampling_parameters');
    assert.equal(sp.datatype, 'BYTES');
    assert.deepEqual(sp.shape, [1]);
    assert.equal(sp.raw.readUInt32LE(0), sp.raw.length - 4);
    assert.deepEqual(JSON.parse(sp.raw.subarray(4).toString('utf8')), {
      max_tokens: 16,
      temperature: 0,
      top_p: 0.5,
      top_k: 3,
      seed: 9,
      stop: ['.'],
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      repetition_penalty: 1.3,
      min_tokens: 4,
    });
  });

  it('puts guided decoding in structured_outputs, itself a JSON string', () => {
    const schema = { type: 'object', properties: { a: { type: 'integer' } } };
    const req = encodeRequest(vllm, { ...base, guidedDecoding: { type: 'json_schema', guide: JSON.stringify(schema) } }, 'v');
    const sp = JSON.parse(input(req, 'sampling_parameters').raw.subarray(4).toString('utf8'));
    assert.equal(typeof sp.structured_outputs, 'string');
    assert.deepEqual(JSON.parse(sp.structured_outputs), { json: schema });
    const anyJson = encodeRequest(vllm, { ...base, guidedDecoding: { type: 'json', guide: '' } }, 'v');
    const sp2 = JSON.parse(input(anyJson, 'sampling_parameters').raw.subarray(4).toString('utf8'));
    assert.deepEqual(JSON.parse(sp2.structured_outputs), { json_object: true });
  });
});

describe('encodeRequest: TRT-LLM LLM-API', () => {
  it('uses sampling_param_* names and streaming', () => {
    const req = encodeRequest(llmapi, { ...base, temperature: 0.7, seed: 3, stop: ['x', 'y', 'z'], topK: 5 }, 'l');
    assert.deepEqual(names(req), [
      'return_finish_reason',
      'sampling_param_exclude_input_from_output',
      'sampling_param_max_tokens',
      'sampling_param_return_perf_metrics',
      'sampling_param_seed',
      'sampling_param_stop',
      'sampling_param_temperature',
      'sampling_param_top_k',
      'streaming',
      'text_input',
    ]);
    assert.deepEqual(input(req, 'text_input').shape, [1]);
    assert.deepEqual(input(req, 'sampling_param_stop').shape, [3]);
    assert.deepEqual(input(req, 'sampling_param_max_tokens').raw, i32(16));
    assert.equal(input(req, 'sampling_param_seed').raw.readBigUInt64LE(0), 3n);
    assert.deepEqual(input(req, 'streaming').raw, Buffer.from([1]));
    assert.deepEqual(input(req, 'sampling_param_exclude_input_from_output').raw, Buffer.from([1]));
  });

  it('a field the model has no input for is a 400 naming it', () => {
    assertGatewayError(() => encodeRequest(llmapi, { ...base, repetitionPenalty: 1.2 }, 'l'), 'unsupported_parameter', 'repetition_penalty');
    assertGatewayError(() => encodeRequest(llmapi, { ...base, minTokens: 1 }, 'l'), 'unsupported_parameter', 'min_tokens');
  });

  it('uses a batch dim when the deployment batches', () => {
    const batched: ModelSchema = { ...llmapi, maxBatchSize: 4 };
    const req = encodeRequest(batched, { ...base, stop: ['a', 'b'] }, 'l');
    assert.deepEqual(input(req, 'text_input').shape, [1, 1]);
    assert.deepEqual(input(req, 'sampling_param_stop').shape, [1, 2]);
    assert.deepEqual(input(req, 'streaming').shape, [1, 1]);
  });
});

describe('decodeResponse', () => {
  it('TRT-LLM: text, INT32 token counts, perf metrics with bigint times', () => {
    const d = decodeResponse(
      trtllm,
      response(
        [
          ['text_output', 'BYTES', [1, 1], encodeBytesTensor(['ça va 🚀'])],
          ['num_input_tokens', 'INT32', [1, 1], i32(7)],
          ['num_output_tokens', 'INT32', [1, 1], i32(3)],
          ['kv_cache_reused_blocks', 'INT32', [1, 1], i32(2)],
          ['kv_cache_alloc_new_blocks', 'INT32', [1, 1], i32(1)],
          ['kv_cache_alloc_total_blocks', 'INT32', [1, 1], i32(3)],
          ['arrival_time_ns', 'INT64', [1, 1], i64(76735247746000n)],
          ['first_scheduled_time_ns', 'INT64', [1, 1], i64(76735247747000n)],
          ['first_token_time_ns', 'INT64', [1, 1], i64(9007199254740993n)],
          ['last_token_time_ns', 'INT64', [1, 1], i64(9007199254740999n)],
          ['acceptance_rate', 'FP32', [1, 1], f32(0.75)],
          ['total_accepted_draft_tokens', 'INT32', [1, 1], i32(6)],
          ['total_draft_tokens', 'INT32', [1, 1], i32(8)],
          ['output_log_probs', 'FP32', [1, 1, 2], Buffer.alloc(8)],
        ],
        true,
      ),
    );
    assert.deepEqual(d, {
      text: 'ça va 🚀',
      final: true,
      modelVersion: '1',
      inputTokens: 7,
      outputTokens: 3,
      perf: {
        kvCacheReusedBlocks: 2,
        kvCacheAllocNewBlocks: 1,
        kvCacheAllocTotalBlocks: 3,
        arrivalTimeNs: 76735247746000n,
        firstScheduledTimeNs: 76735247747000n,
        // Beyond 2^53: must stay exact.
        firstTokenTimeNs: 9007199254740993n,
        lastTokenTimeNs: 9007199254740999n,
        acceptanceRate: 0.75,
        totalAcceptedDraftTokens: 6,
        totalDraftTokens: 8,
      },
    });
  });

  it('vLLM: UINT32 counts (0-d scalar and [1]), finish_reason stop/length, None ignored', () => {
    const d = decodeResponse(
      vllm,
      response([
        ['text_output', 'BYTES', [1], encodeBytesTensor([' world'])],
        ['finish_reason', 'BYTES', [1], encodeBytesTensor(['length'])],
        ['num_input_tokens', 'UINT32', [], u32(4000000000)],
        ['num_output_tokens', 'UINT32', [1], u32(1)],
      ]),
    );
    assert.equal(d.text, ' world');
    assert.equal(d.finishReason, 'length');
    assert.equal(d.inputTokens, 4000000000);
    assert.equal(d.outputTokens, 1);
    assert.equal(d.final, false);
    assert.equal(d.perf, undefined);
    const text: Out = ['text_output', 'BYTES', [1], encodeBytesTensor([''])];
    const unfinished = decodeResponse(vllm, response([text, ['finish_reason', 'BYTES', [1], encodeBytesTensor(['None'])]]));
    assert.equal(unfinished.finishReason, undefined);
    const stopped = decodeResponse(vllm, response([text, ['finish_reason', 'BYTES', [1], encodeBytesTensor(['stop'])]]));
    assert.equal(stopped.finishReason, 'stop');
  });

  it('LLM-API: singular kv-cache names, hit rate', () => {
    const d = decodeResponse(
      llmapi,
      response([
        ['text_output', 'BYTES', [1], encodeBytesTensor(['x'])],
        ['kv_cache_reused_block', 'INT32', [1], i32(5)],
        ['kv_cache_missed_block', 'INT32', [1], i32(1)],
        ['kv_cache_hit_rate', 'FP32', [1], f32(0.5)],
      ]),
    );
    assert.deepEqual(d.perf, { kvCacheReusedBlocks: 5, kvCacheMissedBlocks: 1, kvCacheHitRate: 0.5 });
  });

  it('an empty final response is an empty final delta', () => {
    const d = decodeResponse(trtllm, response([], true));
    assert.deepEqual(d, { text: '', final: true, modelVersion: '1' });
  });

  it('a response without triton_final_response is not final', () => {
    const d = decodeResponse(trtllm, ModelInferResponse.fromPartial({ outputs: [] }));
    assert.equal(d.final, false);
  });

  const okText: Out = ['text_output', 'BYTES', [1], encodeBytesTensor(['ok'])];
  const malformed: Array<[string, Out[]]> = [
    ['truncated BYTES', [['text_output', 'BYTES', [1], Buffer.from([9, 0, 0, 0, 0x61])]]],
    ['a length prefix cut short', [['text_output', 'BYTES', [1], Buffer.from([1, 0])]]],
    ['two strings in text_output', [['text_output', 'BYTES', [2], encodeBytesTensor(['a', 'b'])]]],
    ['no string in text_output', [['text_output', 'BYTES', [0], Buffer.alloc(0)]]],
    ['a shape that disagrees with the elements', [['text_output', 'BYTES', [3], encodeBytesTensor(['a'])]]],
    ['text_output that is not BYTES', [['text_output', 'INT32', [1], i32(1)]]],
    ['an INT32 of 3 bytes', [okText, ['num_output_tokens', 'INT32', [1], Buffer.alloc(3)]]],
    ['an INT64 time of 4 bytes', [okText, ['arrival_time_ns', 'INT64', [1], Buffer.alloc(4)]]],
    ['two token counts', [okText, ['num_output_tokens', 'INT32', [2], Buffer.alloc(8)]]],
    ['a token count as FP32', [okText, ['num_input_tokens', 'FP32', [1], f32(1)]]],
    ['a data response without text_output', [['num_output_tokens', 'INT32', [1], i32(1)]]],
  ];
  for (const [what, outs] of malformed) {
    it(`${what} -> upstream_bad_response`, () => {
      assertGatewayError(() => decodeResponse(trtllm, response(outs)), 'upstream_bad_response');
    });
  }

  it('outputs without matching raw_output_contents -> upstream_bad_response', () => {
    const res = response([['text_output', 'BYTES', [1], encodeBytesTensor(['a'])]]);
    res.rawOutputContents = [];
    assertGatewayError(() => decodeResponse(trtllm, res), 'upstream_bad_response');
  });

  it('malformed errors count against the upstream', () => {
    try {
      decodeResponse(trtllm, response([['text_output', 'BYTES', [1], Buffer.from([9, 0, 0, 0])]]));
      assert.fail('expected a throw');
    } catch (err) {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.upstreamFault, true);
      assert.equal(err.status, 502);
    }
  });
});
