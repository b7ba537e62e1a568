import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { GRPCInferenceServiceClient } from '../../src/triton/generated/grpc_service.js';
import { connect, dataResponses, isFinal, runStream, streamedText, trtllmRequest, vllmRequest } from './sim-client.js';

describe('ModelStreamInfer stream semantics', () => {
  let sim: RunningSimulator;
  let client: GRPCInferenceServiceClient;
  before(async () => {
    sim = await startSimulator({
      models: [
        { name: 'ens', flavour: 'ensemble' },
        { name: 'bls', flavour: 'tensorrt_llm_bls' },
        { name: 'vllm', flavour: 'vllm' },
        // 5 ms a token: a 20-token answer is ~95 ms behind a 1-token one.
        { name: 'ens-sync', flavour: 'ensemble', decoupled: false, latency: { timePerTokenMs: 5 } },
        { name: 'ens-slow', flavour: 'ensemble', latency: { timePerTokenMs: 5 } },
      ],
    });
    client = connect(sim.grpcAddress);
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  test('every streamed response echoes the id and carries triton_final_response; the ensemble ends with an empty final', async () => {
    const r = await runStream(client, [trtllmRequest('ens', 'req-1', { prompt: 'hello there', maxTokens: 3, stream: true })]);
    assert.equal(r.code, status.OK);
    assert.equal(r.responses.length, 4);
    for (const resp of r.responses) {
      assert.equal(resp.errorMessage, '');
      assert.equal(resp.inferResponse?.id, 'req-1');
      assert.equal(typeof resp.inferResponse?.parameters.triton_final_response?.boolParam, 'boolean');
    }
    const last = r.responses[3]!.inferResponse!;
    assert.ok(isFinal(last));
    assert.equal(last.outputs.length, 0);
    assert.equal(last.rawOutputContents.length, 0);
    assert.equal(last.modelName, 'ens');
    assert.equal(last.modelVersion, '1');
    assert.ok(r.responses.slice(0, 3).every((x) => !isFinal(x.inferResponse)));
  });

  test('without triton_enable_empty_final_response the flag-only final is not sent', async () => {
    const r = await runStream(client, [trtllmRequest('bls', 'quiet', { prompt: 'hello there', maxTokens: 3, stream: true }, false)]);
    assert.equal(r.responses.length, 3);
    assert.ok(r.responses.every((x) => !isFinal(x.inferResponse)));
  });

  test('outputs are always in raw_output_contents, one entry per output, never in contents', async () => {
    const r = await runStream(client, [trtllmRequest('ens', 'raw', { prompt: 'hello', maxTokens: 2, stream: false, perf: true })]);
    const [resp] = dataResponses(r);
    assert.equal(resp!.rawOutputContents.length, resp!.outputs.length);
    assert.ok(resp!.outputs.every((o) => o.contents === undefined));
    assert.ok(resp!.outputs.every((o) => o.shape.length === 2 && o.shape[0] === 1), 'TRT-LLM outputs carry the batch dim');
  });

  test('several requests multiplexed on one stream are told apart by id, and the stream ends OK after the last', async () => {
    const r = await runStream(client, [
      trtllmRequest('ens', 'a', { prompt: 'first prompt', maxTokens: 4, stream: true, seed: 1 }),
      vllmRequest('vllm', 'b', { prompt: 'second prompt', stream: true, sampling: { max_tokens: 3 } }),
      trtllmRequest('bls', 'c', { prompt: 'third prompt', maxTokens: 2, stream: false, exclude: true }),
    ]);
    assert.equal(r.code, status.OK);
    assert.equal(dataResponses(r, 'a').length, 4);
    assert.equal(dataResponses(r, 'b').length, 3);
    assert.equal(dataResponses(r, 'c').length, 1);
    const single = await runStream(client, [trtllmRequest('ens', 'a', { prompt: 'first prompt', maxTokens: 4, stream: true, seed: 1 })]);
    assert.equal(streamedText(r, 'a'), streamedText(single));
  });

  test("a non-decoupled model's responses come in request order: a quick request waits behind a slower one sent first", async () => {
    const r = await runStream(client, [
      trtllmRequest('ens-sync', 'slow', { prompt: 'a long answer', maxTokens: 20 }),
      trtllmRequest('ens-sync', 'quick', { prompt: 'a short one', maxTokens: 1 }),
    ]);
    assert.equal(r.code, status.OK);
    assert.deepEqual(r.responses.map((x) => x.inferResponse?.id), ['slow', 'quick']);
    assert.ok(r.responses.every((x) => isFinal(x.inferResponse)), 'one final response each');
  });

  test("a decoupled model's responses go out as they come: the quick request's answer overtakes the slower one", async () => {
    const r = await runStream(client, [
      trtllmRequest('ens-slow', 'slow', { prompt: 'a long answer', maxTokens: 20 }),
      trtllmRequest('ens-slow', 'quick', { prompt: 'a short one', maxTokens: 1 }),
    ]);
    assert.equal(r.code, status.OK);
    const ids = dataResponses(r).map((x) => x.id);
    assert.deepEqual(ids, ['quick', 'slow']);
  });

  test('an unknown model is an error_message with the id, no final flag, and the stream stays usable', async () => {
    const r = await runStream(client, [
      trtllmRequest('missing-model', 'x', { prompt: 'hi', maxTokens: 1 }),
      trtllmRequest('ens', 'y', { prompt: 'hi', maxTokens: 1, stream: true }),
    ]);
    const err = r.responses.find((x) => x.inferResponse?.id === 'x')!;
    assert.equal(err.errorMessage, "Request for unknown model: 'missing-model' is not found");
    assert.equal(err.inferResponse?.parameters.triton_final_response, undefined);
    assert.equal(dataResponses(r, 'y').length, 1);
    assert.equal(r.code, status.OK);
  });

  test('triton_grpc_error metadata closes the stream with the real status on a backend error', async () => {
    sim.setFault('vllm', { kind: 'error', code: 'RESOURCE_EXHAUSTED', message: 'out of KV blocks' });
    try {
      const md = new Metadata();
      md.set('triton_grpc_error', 'true');
      const closed = await runStream(client, [vllmRequest('vllm', 'g', { prompt: 'hi', stream: true })], { metadata: md });
      assert.equal(closed.code, status.RESOURCE_EXHAUSTED);
      assert.equal(closed.details, 'out of KV blocks');
      assert.equal(closed.responses.length, 0);

      const open = await runStream(client, [vllmRequest('vllm', 'g', { prompt: 'hi', stream: true })]);
      assert.equal(open.code, status.OK);
      assert.equal(open.responses[0]!.errorMessage, 'out of KV blocks');
      assert.ok(isFinal(open.responses[0]!.inferResponse), 'a backend error carries the FINAL flag');
      assert.equal(open.responses[0]!.inferResponse?.modelName, 'vllm');
    } finally {
      sim.clearFaults('vllm');
    }
  });

  test('in triton_grpc_error mode an error found before the model runs is still an error_message', async () => {
    const md = new Metadata();
    md.set('triton_grpc_error', 'true');
    const r = await runStream(client, [trtllmRequest('missing-model', 'm', { prompt: 'hi', maxTokens: 1 })], { metadata: md });
    assert.equal(r.code, status.OK);
    assert.match(r.responses[0]!.errorMessage, /unknown model/);
  });
});
