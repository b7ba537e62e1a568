import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { GRPCInferenceServiceClient } from '../../src/triton/generated/grpc_service.js';
import { countTokens, tokenize } from '../../sim/text/tokenizer.js';
import {
  connect,
  dataResponses,
  inferRequest,
  bytesInput,
  scalarInput,
  outputInt,
  outputText,
  runStream,
  streamedText,
  trtllmRequest,
  vllmRequest,
} from './sim-client.js';

const PROMPT = 'What is machine learning?';

describe('simulated text generation over ModelStreamInfer', () => {
  let sim: RunningSimulator;
  let client: GRPCInferenceServiceClient;
  before(async () => {
    sim = await startSimulator({
      models: [
        { name: 'ens', flavour: 'ensemble' },
        { name: 'bls', flavour: 'tensorrt_llm_bls' },
        { name: 'vllm', flavour: 'vllm', eosAfterTokens: 6 },
        { name: 'llmapi', flavour: 'llmapi' },
      ],
    });
    client = connect(sim.grpcAddress);
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  const whole = async (model: string, o: Parameters<typeof trtllmRequest>[2]) => {
    const r = await runStream(client, [trtllmRequest(model, 'w', { ...o, stream: false, exclude: true })]);
    const [resp] = dataResponses(r);
    assert.ok(resp, `no data response: ${JSON.stringify(r.responses.map((x) => x.errorMessage))}`);
    return resp;
  };

  test('the same prompt and seed give the same text; the tokenizer counts words with their leading space', async () => {
    const a = await whole('ens', { prompt: PROMPT, maxTokens: 12, seed: 5 });
    const b = await whole('ens', { prompt: PROMPT, maxTokens: 12, seed: 5 });
    assert.equal(outputText(a), outputText(b));
    assert.deepEqual(tokenize(' a  b\tc '), [' a', '  b', '\tc']);
    assert.equal(outputInt(a, 'num_input_tokens'), 4); // "What" " is" " machine" " learning?"
    assert.equal(outputInt(a, 'num_output_tokens'), 12);
    assert.equal(countTokens(outputText(a)!), 12);
  });

  test('a different seed changes sampled text, while temperature 0 ignores the seed', async () => {
    const s1 = await whole('ens', { prompt: PROMPT, maxTokens: 12, seed: 1, temperature: 0.8 });
    const s2 = await whole('ens', { prompt: PROMPT, maxTokens: 12, seed: 2, temperature: 0.8 });
    assert.notEqual(outputText(s1), outputText(s2));
    const g1 = await whole('ens', { prompt: PROMPT, maxTokens: 12, seed: 1, temperature: 0 });
    const g2 = await whole('ens', { prompt: PROMPT, maxTokens: 12, seed: 2, temperature: 0 });
    assert.equal(outputText(g1), outputText(g2));
  });

  for (const model of ['ens', 'bls']) {
    test(`${model}: streamed deltas concatenate to the non-streamed text, one token per response`, async () => {
      const o = { prompt: PROMPT, maxTokens: 20, seed: 9 };
      const streamed = await runStream(client, [trtllmRequest(model, 's', { ...o, stream: true })]);
      const data = dataResponses(streamed);
      assert.equal(data.length, 20);
      assert.deepEqual(
        data.map((r) => outputInt(r, 'num_output_tokens')),
        new Array(20).fill(1),
      );
      assert.equal(outputInt(data[0]!, 'num_input_tokens'), 4);
      assert.equal(outputInt(data[1]!, 'num_input_tokens'), undefined, 'num_input_tokens only on the first response');
      const w = await whole(model, o);
      assert.equal(streamedText(streamed), outputText(w));
    });
  }

  test('stop words cut the text before the stop string with the same result streamed and not', async () => {
    const free = outputText(await whole('ens', { prompt: PROMPT, maxTokens: 30, seed: 3 }))!;
    const stop = free.split(' ').filter(Boolean)[5]!; // a word that appears in the free text
    const cut = free.indexOf(stop);
    const w = await whole('ens', { prompt: PROMPT, maxTokens: 30, seed: 3, stop: [stop] });
    assert.equal(outputText(w), free.slice(0, cut));
    const s = await runStream(client, [trtllmRequest('ens', 's', { prompt: PROMPT, maxTokens: 30, seed: 3, stop: [stop], stream: true })]);
    assert.equal(streamedText(s), free.slice(0, cut));
    assert.equal(outputInt(w, 'num_output_tokens'), dataResponses(s).length);
    assert.ok(dataResponses(s).length < 30);
  });

  test('TRT-LLM without exclude_input_in_output echoes the prompt and counts it in num_output_tokens', async () => {
    const r = await runStream(client, [trtllmRequest('ens', 'e', { prompt: PROMPT, maxTokens: 5, seed: 1 })]);
    const [resp] = dataResponses(r);
    const text = outputText(resp!)!;
    assert.ok(text.startsWith(PROMPT));
    assert.equal(outputInt(resp!, 'num_output_tokens'), 5 + 4);
  });

  test('vLLM: finish_reason length at max_tokens, stop at its natural end, prompt prepended unless excluded', async () => {
    const long = await runStream(client, [vllmRequest('vllm', 'l', { prompt: PROMPT, sampling: { max_tokens: 3 }, exclude: true, finishReason: true })]);
    assert.equal(outputText(dataResponses(long)[0]!, 'finish_reason'), 'length');
    assert.equal(outputInt(dataResponses(long)[0]!, 'num_output_tokens'), 3);
    const natural = await runStream(client, [vllmRequest('vllm', 'n', { prompt: PROMPT, sampling: { max_tokens: 50 }, exclude: true, finishReason: true })]);
    assert.equal(outputText(dataResponses(natural)[0]!, 'finish_reason'), 'stop');
    assert.equal(outputInt(dataResponses(natural)[0]!, 'num_output_tokens'), 6);
    const echoed = await runStream(client, [vllmRequest('vllm', 'p', { prompt: PROMPT, sampling: { max_tokens: 3 } })]);
    const text = outputText(dataResponses(echoed)[0]!)!;
    assert.ok(text.startsWith(PROMPT) && text.length > PROMPT.length);
    assert.equal(outputInt(dataResponses(echoed)[0]!, 'num_input_tokens'), 4);
  });

  test('vLLM streaming: deltas concatenate, finish_reason "None" until the last response, FINAL on the last data response', async () => {
    const o = { prompt: PROMPT, sampling: { max_tokens: 4, temperature: 0 }, finishReason: true };
    const s = await runStream(client, [vllmRequest('vllm', 's', { ...o, stream: true })]);
    const data = dataResponses(s);
    assert.equal(data.length, 4);
    assert.deepEqual(data.map((r) => outputText(r, 'finish_reason')), ['None', 'None', 'None', 'length']);
    assert.deepEqual(data.map((r) => r.parameters.triton_final_response?.boolParam), [false, false, false, true]);
    assert.equal(s.responses.length, 4, 'no flag-only final when FINAL rode on the data');
    const w = await runStream(client, [vllmRequest('vllm', 'w', { ...o, exclude: true })]);
    assert.equal(streamedText(s), outputText(dataResponses(w)[0]!));
  });

  test('vLLM streaming with exclude_input_in_output=false is the documented backend error', async () => {
    const r = await runStream(client, [vllmRequest('vllm', 'x', { prompt: PROMPT, stream: true, exclude: false })]);
    assert.equal(r.responses.length, 1);
    assert.equal(r.responses[0]!.errorMessage, 'Error generating stream: When streaming, `exclude_input_in_output` = False is not allowed.');
    assert.equal(r.responses[0]!.inferResponse?.id, 'x');
  });

  test("vLLM's own checks of sampling values are backend errors in its words", async () => {
    const refused = async (sampling: Record<string, unknown>): Promise<string | undefined> =>
      (await runStream(client, [vllmRequest('vllm', 'v', { prompt: PROMPT, stream: true, exclude: true, sampling })])).responses[0]!.errorMessage;
    assert.equal(await refused({ max_tokens: 4, min_tokens: 5 }), 'Error generating stream: min_tokens must be less than or equal to max_tokens=4, got 5.');
    assert.equal(await refused({ max_tokens: 4, stop: ['end', ''] }), 'Error generating stream: stop cannot contain an empty string.');
    assert.equal(await refused({ max_tokens: 4, min_tokens: 4, stop: ['end'] }), '', 'values vLLM accepts generate');
  });

  test('vLLM reads sampling parameters from request parameters when the JSON tensor is absent', async () => {
    const req = inferRequest('vllm', 'q', [bytesInput('text_input', [PROMPT], [1]), scalarInput('exclude_input_in_output', 'BOOL', true, [1])], {
      max_tokens: { int64Param: 2 },
    });
    const r = await runStream(client, [req]);
    assert.equal(countTokens(outputText(dataResponses(r)[0]!)!), 2);
  });

  test('LLM-API model: sampling_param_* inputs, streaming deltas and finish_reason', async () => {
    const req = (stream: boolean) =>
      inferRequest('llmapi', stream ? 's' : 'w', [
        bytesInput('text_input', [PROMPT], [1, 1]),
        scalarInput('streaming', 'BOOL', stream, [1, 1]),
        scalarInput('sampling_param_max_tokens', 'INT32', 5, [1, 1]),
        scalarInput('return_finish_reason', 'BOOL', true, [1, 1]),
      ]);
    const s = await runStream(client, [req(true)]);
    const w = await runStream(client, [req(false)]);
    assert.equal(dataResponses(s).length, 5);
    assert.equal(streamedText(s), outputText(dataResponses(w)[0]!));
    assert.equal(outputText(dataResponses(w)[0]!, 'finish_reason'), 'length');
  });
});
