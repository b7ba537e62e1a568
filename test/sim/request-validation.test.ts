import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { GRPCInferenceServiceClient, ModelInferRequest } from '../../src/triton/generated/grpc_service.js';
import {
  bytesInput,
  connect,
  dataResponses,
  inferRequest,
  outputText,
  runStream,
  scalarInput,
  trtllmRequest,
  unary,
} from './sim-client.js';

describe('request validation with Triton messages', () => {
  let sim: RunningSimulator;
  let client: GRPCInferenceServiceClient;
  before(async () => {
    sim = await startSimulator({
      models: [
        { name: 'ens', flavour: 'ensemble' },
        { name: 'vllm', flavour: 'vllm' },
        { name: 'ident', flavour: 'identity' },
        { name: 'ens-sync', flavour: 'ensemble', decoupled: false },
      ],
    });
    client = connect(sim.grpcAddress);
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  const streamError = async (req: ModelInferRequest) => {
    const r = await runStream(client, [req]);
    assert.equal(r.responses.length, 1);
    assert.equal(r.responses[0]!.inferResponse?.id, req.id);
    return r.responses[0]!.errorMessage;
  };
  const base = () => trtllmRequest('ens', 'v1', { prompt: 'hi', maxTokens: 2, counts: false });

  test('an unknown input name', async () => {
    const req = base();
    req.inputs.push({ name: 'min_length', datatype: 'INT32', shape: [1, 1], parameters: {}, contents: undefined });
    req.rawInputContents.push(Buffer.alloc(4));
    assert.equal(await streamError(req), "unexpected inference input 'min_length' for model 'ens'");
  });

  test('a shape without the batch dim on a batching model', async () => {
    const req = base();
    req.inputs[0]!.shape = [1];
    assert.equal(
      await streamError(req),
      "[request id: v1] unexpected shape for input 'text_input' for model 'ens'. Expected [-1,1], got [1]. " +
        'NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape. ' +
        'If you want to specify the full shape including the batch dim in your input dims config, try setting max_batch_size to zero. ' +
        'See the model configuration docs for more info on max_batch_size.',
    );
  });

  test('a batch dim on a model with max_batch_size 0', async () => {
    const req = inferRequest('vllm', 'v2', [bytesInput('text_input', ['hi'], [1, 1])]);
    assert.equal(await streamError(req), "[request id: v2] unexpected shape for input 'text_input' for model 'vllm'. Expected [1], got [1,1]. ");
  });

  test('a batch larger than max_batch_size', async () => {
    const req = inferRequest('ident', 'v3', [bytesInput('INPUT0', new Array(9).fill('x'), [9, 1])]);
    assert.equal(await streamError(req), "[request id: v3] inference request batch-size must be <= 8 for 'ident'");
  });

  test('a wrong datatype', async () => {
    const req = base();
    req.inputs[1]!.datatype = 'INT64';
    req.rawInputContents[1] = Buffer.alloc(8);
    assert.equal(await streamError(req), "[request id: v1] inference input 'max_tokens' data-type is 'INT64', but model 'ens' expects 'INT32'");
  });

  test('a missing required input, with the empty id shown as <id_unknown>', async () => {
    const req = inferRequest('ens', '', [bytesInput('text_input', ['hi'], [1, 1])]);
    assert.equal(
      await streamError(req),
      "[request id: <id_unknown>] expected number of inputs between 2 and 36 but got 1 inputs for model 'ens'. " +
        "Got input(s) ['text_input'], but missing required input(s) ['max_tokens']. Please provide all required input(s).",
    );
  });

  test('contents together with raw_input_contents', async () => {
    const req = base();
    req.inputs[0]!.contents = {
      boolContents: [], intContents: [], int64Contents: [], uintContents: [], uint64Contents: [], fp32Contents: [], fp64Contents: [],
      bytesContents: [Buffer.from('hi')],
    };
    assert.equal(await streamError(req), "contents field must not be specified when using raw_input_contents for 'text_input' for model 'ens'");
  });

  test('an input with no data at all', async () => {
    const req = inferRequest('ident', 'v4', []);
    req.inputs.push({ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], parameters: {}, contents: undefined });
    assert.equal(await streamError(req), "unable to find data for input tensor 'INPUT0' for model 'ident' in request.");
  });

  test('a raw byte size that does not match the shape', async () => {
    const req = base();
    req.rawInputContents[1] = Buffer.alloc(3);
    assert.equal(await streamError(req), "[request id: v1] input byte size mismatch for input 'max_tokens' for model 'ens'. Expected 4, got 3");
  });

  test('reserved triton_ parameter keys other than triton_enable_empty_final_response', async () => {
    const req = base();
    req.parameters.triton_priority_boost = { boolParam: true };
    assert.equal(
      await streamError(req),
      "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys starting with 'triton_' are allowed: triton_enable_empty_final_response",
    );
  });

  test('a custom parameter sent as uint64', async () => {
    const req = base();
    req.parameters.budget = { uint64Param: 3 };
    assert.equal(await streamError(req), "invalid value type for 'budget' parameter, expected int64_param, bool_param, or string_param.");
  });

  test('reserved keys with the wrong parameter type: priority as a string, timeout as a bool, sequence_start as an int', async () => {
    for (const [key, value, expected] of [
      ['priority', { stringParam: 'high' }, 'int64_param or uint64_param'],
      ['timeout', { boolParam: true }, 'int64_param'],
      ['sequence_start', { int64Param: 1 }, 'bool_param'],
      ['sequence_id', { boolParam: true }, 'int64_param or string_param'],
    ] as const) {
      const req = base();
      req.parameters[key] = value;
      assert.equal(await streamError(req), `invalid value type for '${key}' parameter, expected ${expected}.`, key);
    }
  });

  test('reserved keys with their documented types are accepted', async () => {
    const req = base();
    req.parameters.priority = { uint64Param: 2 };
    req.parameters.timeout = { int64Param: 1_000_000 };
    req.parameters.sequence_id = { stringParam: 'conversation-1' };
    const r = await runStream(client, [req]);
    assert.deepEqual(r.responses.map((x) => x.errorMessage).filter((m) => m !== ''), []);
    assert.ok(r.responses.some((x) => x.inferResponse?.outputs.length), 'answered');
  });

  test('BYTES inputs in contents.bytes_contents are accepted like raw ones', async () => {
    const req = trtllmRequest('ens', 'c1', { prompt: 'hi there', maxTokens: 3, exclude: true, seed: 4 });
    const raw = trtllmRequest('ens', 'c2', { prompt: 'hi there', maxTokens: 3, exclude: true, seed: 4 });
    // Move every input to typed contents.
    const contents = req.rawInputContents;
    req.rawInputContents = [];
    req.inputs.forEach((t, i) => {
      const c = { boolContents: [] as boolean[], intContents: [] as number[], int64Contents: [], uintContents: [], uint64Contents: [] as number[], fp32Contents: [], fp64Contents: [], bytesContents: [] as Buffer[] };
      const buf = contents[i]!;
      if (t.datatype === 'BYTES') c.bytesContents = [buf.subarray(4)];
      else if (t.datatype === 'BOOL') c.boolContents = [buf[0] === 1];
      else if (t.datatype === 'INT32') c.intContents = [buf.readInt32LE(0)];
      else if (t.datatype === 'UINT64') c.uint64Contents = [Number(buf.readBigUInt64LE(0))];
      t.contents = c;
    });
    const a = await runStream(client, [req]);
    const b = await runStream(client, [raw]);
    assert.equal(outputText(dataResponses(a)[0]!), outputText(dataResponses(b)[0]!));
    const recorded = sim.received().find((r) => r.id === 'c1')!;
    assert.deepEqual(recorded.inputs.text_input!.values, ['hi there']);
  });

  test('unary ModelInfer refuses a decoupled model with UNIMPLEMENTED', async () => {
    const err = (await unary(client, 'modelInfer', base()).catch((e: unknown) => e)) as ServiceError;
    assert.equal(err.code, status.UNIMPLEMENTED);
    assert.equal(err.details, "ModelInfer RPC doesn't support models with decoupled transaction policy");
  });

  test('unary ModelInfer on the non-decoupled identity model echoes its input and reports errors as statuses', async () => {
    const res = await unary(client, 'modelInfer', inferRequest('ident', 'u1', [bytesInput('INPUT0', ['a', 'héllo'], [1, 2])]));
    assert.equal(res.id, 'u1');
    assert.deepEqual(res.outputs.map((o) => [o.name, o.datatype, o.shape]), [['OUTPUT0', 'BYTES', [1, 2]]]);
    assert.equal(outputText(res, 'OUTPUT0'), 'ahéllo');
    assert.equal(res.parameters.triton_final_response, undefined);
    const err = (await unary(client, 'modelInfer', inferRequest('ident', 'u2', [scalarInput('INPUT0', 'INT32', 1, [1, 1])])).catch((e: unknown) => e)) as ServiceError;
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.details, /data-type is 'INT32', but model 'ident' expects 'BYTES'/);
  });

  test('a TRT-LLM ensemble deployed non-decoupled answers unary ModelInfer and refuses stream=true', async () => {
    const res = await unary(client, 'modelInfer', trtllmRequest('ens-sync', 'n1', { prompt: 'hi there', maxTokens: 3, exclude: true }));
    assert.equal(res.modelName, 'ens-sync');
    assert.equal(outputText(res)!.split(' ').filter(Boolean).length, 3);
    const onStream = await runStream(client, [trtllmRequest('ens-sync', 'n2', { prompt: 'hi', maxTokens: 2 })]);
    assert.equal(onStream.responses.length, 1, 'one response, which is final');
    assert.equal(onStream.responses[0]!.inferResponse?.parameters.triton_final_response?.boolParam, true);
    const err = (await unary(client, 'modelInfer', trtllmRequest('ens-sync', 'n3', { prompt: 'hi', maxTokens: 2, stream: true })).catch(
      (e: unknown) => e,
    )) as ServiceError;
    assert.equal(err.code, status.INTERNAL);
    assert.equal(err.details, "in ensemble 'ens-sync', Streaming is only supported if model is deployed using decoupled mode.");
  });
});
