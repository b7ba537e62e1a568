/**
 * The hand-written ModelStreamInferResponse decoder must give exactly what the generated decoder
 * gives, on Triton's real message shapes, on random messages of every field kind, on fields it
 * does not know and on broken input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import {
  ModelStreamInferResponse,
  type InferParameter,
  type ModelInferResponse,
  type ModelInferResponse_InferOutputTensor as OutputTensor,
} from '../../../src/triton/generated/grpc_service.js';
import { decodeStreamInferResponse } from '../../../src/triton/stream-response-decoder.js';
import { createPrng } from '../../../sim/text/prng.js';

const encode = (m: ModelStreamInferResponse): Buffer => Buffer.from(ModelStreamInferResponse.encode(m).finish());

function assertSameDecode(bytes: Buffer, label: string): void {
  assert.deepStrictEqual(decodeStreamInferResponse(bytes), ModelStreamInferResponse.decode(bytes), label);
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}

function bytesTensor(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  return Buffer.concat([int32(body.length), body]);
}

const tensor = (name: string, datatype: string, shape = [1, 1]): OutputTensor => ({ name, datatype, shape, parameters: {}, contents: undefined });

test('decodes a non-streamed TRT-LLM answer (13 outputs) like the generated decoder', () => {
  const names: Array<[string, string]> = [
    ['num_input_tokens', 'INT32'],
    ['num_output_tokens', 'INT32'],
    ['kv_cache_alloc_new_blocks', 'INT32'],
    ['kv_cache_reused_blocks', 'INT32'],
    ['kv_cache_alloc_total_blocks', 'INT32'],
    ['arrival_time_ns', 'INT64'],
    ['first_scheduled_time_ns', 'INT64'],
    ['first_token_time_ns', 'INT64'],
    ['last_token_time_ns', 'INT64'],
    ['acceptance_rate', 'FP32'],
    ['total_accepted_draft_tokens', 'INT32'],
    ['total_draft_tokens', 'INT32'],
  ];
  const response: ModelInferResponse = {
    modelName: 'llama-3-8b-trtllm',
    modelVersion: '1',
    id: 'gw-1a2b3c4d-5f',
    parameters: { triton_final_response: { boolParam: false } },
    outputs: [tensor('text_output', 'BYTES'), ...names.map(([n, d]) => tensor(n, d))],
    rawOutputContents: [bytesTensor(' Request 7 answers in one line.'), ...names.map(([, d]) => (d === 'INT64' ? Buffer.alloc(8, 1) : int32(12)))],
  };
  const bytes = encode({ errorMessage: '', inferResponse: response });
  assertSameDecode(bytes, 'data response');
  const decoded = decodeStreamInferResponse(bytes);
  assert.equal(decoded.inferResponse?.outputs[0]?.name, 'text_output');
  assert.equal(decoded.inferResponse?.outputs.length, 13);
  // The flag-only final, and an error message on its own.
  assertSameDecode(encode({ errorMessage: '', inferResponse: { ...response, parameters: { triton_final_response: { boolParam: true } }, outputs: [], rawOutputContents: [] } }), 'flag-only final');
  assertSameDecode(encode({ errorMessage: 'in ensemble: request cancelled', inferResponse: undefined }), 'error message');
  assertSameDecode(Buffer.alloc(0), 'empty message');
});

// Seeded (the simulator's PRNG), so a failure names a seed that reproduces it.
function randomMessage(random: () => number): ModelStreamInferResponse {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const int = (max: number): number => Math.floor(random() * max);
  const text = (): string =>
    Array.from({ length: int(12) }, () => pick(['a', 'Z', ' ', 'é', '漢', '🦙', '\uFEFF', '\n', '"', '_'])).join('');
  const safeInt = (): number => pick([0, 1, -1, 127, 128, 2 ** 31, -(2 ** 31), 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, int(1e6)]);
  const parameter = (): InferParameter => {
    switch (int(5)) {
      case 0:
        return { boolParam: random() < 0.5 };
      case 1:
        return { int64Param: safeInt() };
      case 2:
        return { stringParam: text() };
      case 3:
        return { doubleParam: pick([0, -0.5, 1e300, Number.NaN, Number.POSITIVE_INFINITY, random()]) };
      default:
        return { uint64Param: Math.abs(safeInt()) };
    }
  };
  const parameters = (): { [key: string]: InferParameter } => Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['triton_final_response', 'seq', text()]), parameter()]));
  const outputs = Array.from({ length: int(5) }, (): OutputTensor => ({
    name: pick(['text_output', 'num_output_tokens', text()]),
    datatype: pick(['BYTES', 'INT32', 'INT64', 'FP32', 'BF16', 'BOOL', 'UINT8', '', 'NOT_A_TYPE', text()]),
    shape: Array.from({ length: int(4) }, () => pick([1, -1, 0, 16, 2 ** 40])),
    parameters: random() < 0.2 ? parameters() : {},
    contents: random() < 0.2 ? { boolContents: [true], intContents: [1, -2], int64Contents: [], uintContents: [], uint64Contents: [], fp32Contents: [0.5], fp64Contents: [], bytesContents: [Buffer.from('x')] } : undefined,
  }));
  return {
    errorMessage: random() < 0.2 ? text() : '',
    inferResponse: random() < 0.1 ? undefined : {
      modelName: text(),
      modelVersion: pick(['', '1', text()]),
      id: text(),
      parameters: parameters(),
      outputs,
      rawOutputContents: Array.from({ length: int(5) }, () => Buffer.from(text(), 'utf8')),
    },
  };
}

test('decodes 2,000 random messages exactly like the generated decoder', () => {
  for (let seed = 1; seed <= 2000; seed++) assertSameDecode(encode(randomMessage(createPrng(seed))), `seed ${seed}`);
});

test('skips unknown fields of every wire type, and known fields sent with the wrong wire type, like the generated decoder', () => {
  const w = new BinaryWriter();
  w.uint32((99 << 3) | 0).uint64(2n ** 63n); // varint
  w.uint32((98 << 3) | 1).fixed64(7n); // 64-bit
  w.uint32((97 << 3) | 2).string('unknown'); // length-delimited
  w.uint32((96 << 3) | 5).fixed32(9); // 32-bit
  w.uint32((95 << 3) | 3).uint32((1 << 3) | 0).uint32(5).uint32((95 << 3) | 4); // group
  w.uint32((1 << 3) | 0).uint32(3); // error_message as a varint: the wrong wire type
  const inner = new BinaryWriter();
  inner.uint32((3 << 3) | 2).string('req-1');
  inner.uint32((42 << 3) | 2).bytes(new Uint8Array([1, 2, 3]));
  inner.uint32((5 << 3) | 2).fork().uint32((1 << 3) | 2).string('text_output').uint32((3 << 3) | 0).int64(1).uint32((3 << 3) | 0).int64(-1).uint32((7 << 3) | 0).uint32(1).join();
  w.uint32((2 << 3) | 2).bytes(inner.finish());
  assertSameDecode(Buffer.from(w.finish()), 'unknown and mistyped fields, unpacked shape');
});

test('replaces invalid UTF-8 in strings exactly as the generated decoder does', () => {
  const invalid = [[0xff], [0xc3], [0xe6, 0xbc], [0xf0, 0x9f, 0xa6], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0x61, 0xf8, 0x62], [0xf4, 0x90, 0x80, 0x80], [0xef, 0xbb, 0xbf, 0x61]];
  for (const bytes of invalid) assertSameDecode(Buffer.from([10, bytes.length, ...bytes]), `error_message bytes ${bytes.join(',')}`);
});

test('rejects what the generated decoder rejects: a truncated message and an int64 beyond 2^53', () => {
  const full = encode(randomMessage(createPrng(7)));
  for (const cut of [1, 5, Math.floor(full.length / 2), full.length - 1]) {
    const truncated = full.subarray(0, cut);
    let generated: unknown;
    try {
      ModelStreamInferResponse.decode(truncated);
    } catch (err) {
      generated = err;
    }
    if (generated === undefined) assertSameDecode(truncated, `cut at ${cut}`);
    else assert.throws(() => decodeStreamInferResponse(truncated), `cut at ${cut} must fail`);
  }
  const inner = new BinaryWriter();
  inner.uint32((5 << 3) | 2).fork().uint32((3 << 3) | 0).int64(2n ** 60n).join();
  const tooBig = new BinaryWriter().uint32((2 << 3) | 2).bytes(inner.finish()).finish();
  assert.throws(() => ModelStreamInferResponse.decode(tooBig), /MAX_SAFE_INTEGER/);
  assert.throws(() => decodeStreamInferResponse(Buffer.from(tooBig)), /MAX_SAFE_INTEGER/);
});

test('reads a Uint8Array that is not a Buffer, and gives raw outputs as views of the message', () => {
  const bytes = encode({ errorMessage: '', inferResponse: { modelName: 'm', modelVersion: '', id: '', parameters: {}, outputs: [tensor('text_output', 'BYTES')], rawOutputContents: [bytesTensor('hi')] } });
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoded = decodeStreamInferResponse(plain);
  assert.deepStrictEqual(decoded, ModelStreamInferResponse.decode(bytes));
  assert.equal(decoded.inferResponse?.rawOutputContents[0]?.buffer, bytes.buffer, 'no copy of the raw output');
});
