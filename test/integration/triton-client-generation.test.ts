/**
 * TritonClient.infer against the simulator over real gRPC on loopback: text, token counts,
 * finish reasons, perf metrics and what actually reached "Triton" for every backend flavour.
 * Token counts follow the simulator's documented tokenizer: a token is /\s*\S+/ (a word with
 * its leading whitespace), and every generated token is " " + a word.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collect, rejectsWith, request, startHarness } from '../helpers/triton-client-harness.js';

const h = await startHarness({
  models: [
    { name: 'llama-3-8b-trtllm', flavour: 'ensemble', speculative: { draftTokens: 4, acceptanceRate: 0.7 } },
    { name: 'llama-3-8b-bls', flavour: 'tensorrt_llm_bls' },
    { name: 'qwen3-vllm', flavour: 'vllm' },
    { name: 'llama-3-8b-llmapi', flavour: 'llmapi' },
    { name: 'llama-unary', flavour: 'ensemble', decoupled: false },
  ],
});

const PROMPT = 'Explain the theory of everything'; // 5 tokens
const tokens = (text: string) => (text.match(/\s*\S+/g) ?? []).length;

const LLM_MODELS = [
  { name: 'llama-3-8b-trtllm', counts: true, finish: false },
  { name: 'llama-3-8b-bls', counts: true, finish: false },
  { name: 'qwen3-vllm', counts: true, finish: true },
  { name: 'llama-3-8b-llmapi', counts: false, finish: true },
];

describe('generation over ModelStreamInfer', () => {
  for (const m of LLM_MODELS) {
    it(`${m.name}: streamed deltas concatenate to the non-streamed text; counts exact`, async () => {
      const schema = await h.schema(m.name);
      const opts = { prompt: PROMPT, maxTokens: 8, seed: 42, temperature: 0.8 };
      const whole = await collect(h.client.infer(schema, request({ ...opts, stream: false })));
      const streamed = await collect(h.client.infer(schema, request({ ...opts, stream: true })));

      assert.ok(whole.text.length > 0);
      assert.equal(streamed.text, whole.text);
      assert.ok(streamed.deltas.length >= 8, `expected one delta per token, got ${streamed.deltas.length}`);
      assert.ok(whole.deltas.length <= 2, 'non-streamed: the data response plus at most an empty final');
      for (const run of [whole, streamed]) {
        // Exactly one final, and it is the last delta.
        assert.deepEqual(run.deltas.map((d) => d.final).lastIndexOf(true), run.deltas.length - 1);
        assert.equal(run.deltas.filter((d) => d.final).length, 1);
      }
      assert.equal(tokens(whole.text), 8);
      if (m.counts) {
        assert.equal(whole.inputTokens, tokens(PROMPT));
        assert.equal(streamed.inputTokens, 5);
        assert.equal(whole.outputTokens, 8);
        assert.equal(streamed.outputTokens, 8);
      } else {
        assert.equal(whole.inputTokens, undefined);
        assert.equal(whole.outputTokens, undefined);
      }
      if (m.finish) {
        assert.equal(whole.finishReason, 'length');
        assert.equal(streamed.finishReason, 'length');
      }
    });
  }

  it('the seed reaches the model: same seed same text, other seed other text; temperature 0 ignores it', async () => {
    const schema = await h.schema('qwen3-vllm');
    const run = (seed: number, temperature: number) => collect(h.client.infer(schema, request({ prompt: PROMPT, maxTokens: 12, seed, temperature })));
    const [a, b, c] = await Promise.all([run(1, 1), run(1, 1), run(2, 1)]);
    assert.equal(a.text, b.text);
    assert.notEqual(a.text, c.text);
    const [g1, g2] = await Promise.all([run(1, 0), run(2, 0)]);
    assert.equal(g1.text, g2.text);
  });

  for (const name of ['llama-3-8b-trtllm', 'qwen3-vllm']) {
    it(`${name}: stop strings cut the text before the match`, async () => {
      const schema = await h.schema(name);
      const full = await collect(h.client.infer(schema, request({ prompt: PROMPT, maxTokens: 10, seed: 5, temperature: 1 })));
      const words = full.text.match(/\s*\S+/g)!;
      const stop = words[3]!; // " word" including its space
      const cut = await collect(h.client.infer(schema, request({ prompt: PROMPT, maxTokens: 10, seed: 5, temperature: 1, stop: [stop, 'NEVER-SEEN'] })));
      assert.equal(cut.text, full.text.slice(0, full.text.indexOf(stop)));
      if (name === 'qwen3-vllm') assert.equal(cut.finishReason, 'stop');
    });
  }

  it('TRT-LLM perf metrics are decoded: KV blocks, ns timestamps as bigint, speculative decoding', async () => {
    const schema = await h.schema('llama-3-8b-trtllm');
    // 40 prompt tokens = 2.5 KV blocks of 16: a repeat reuses the two full blocks.
    const prompt = Array.from({ length: 40 }, (_, i) => `perf${i}`).join(' ');
    const first = await collect(h.client.infer(schema, request({ prompt, maxTokens: 6 })));
    const second = await collect(h.client.infer(schema, request({ prompt, maxTokens: 6, stream: false })));
    const p = first.perf!;
    assert.ok(p !== undefined, 'perf metrics present');
    for (const t of [p.arrivalTimeNs, p.firstScheduledTimeNs, p.firstTokenTimeNs, p.lastTokenTimeNs]) assert.equal(typeof t, 'bigint');
    assert.ok(p.arrivalTimeNs! <= p.firstScheduledTimeNs!);
    assert.ok(p.firstScheduledTimeNs! <= p.firstTokenTimeNs!);
    assert.ok(p.firstTokenTimeNs! <= p.lastTokenTimeNs!);
    assert.equal(p.kvCacheReusedBlocks, 0);
    assert.ok(p.kvCacheAllocNewBlocks! > 0);
    assert.ok(p.kvCacheAllocTotalBlocks! >= p.kvCacheAllocNewBlocks!);
    assert.equal(second.perf!.kvCacheReusedBlocks, 2);
    assert.ok(p.totalDraftTokens! > 0);
    assert.ok(p.totalAcceptedDraftTokens! <= p.totalDraftTokens!);
    assert.ok(Math.abs(p.acceptanceRate! - p.totalAcceptedDraftTokens! / p.totalDraftTokens!) < 1e-6);
  });

  it('sends what the reference prescribes, and the trace context as metadata', async () => {
    h.sim.reset();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ens = await h.schema('llama-3-8b-trtllm');
    const vllm = await h.schema('qwen3-vllm');
    await collect(
      h.client.infer(ens, request({ seed: 7, temperature: 0.5, stop: ['\n'] }), { metadata: { traceparent, tracestate: 'vendor=1' }, requestId: 'gw-req-1' }),
    );
    await collect(h.client.infer(vllm, request({ seed: 7, topK: 3, stream: false })));
    const [a, b] = h.sim.received();
    assert.ok(a !== undefined && b !== undefined);

    assert.equal(a.model, 'llama-3-8b-trtllm');
    assert.equal(a.id, 'gw-req-1');
    assert.equal(a.metadata.traceparent, traceparent);
    assert.equal(a.metadata.tracestate, 'vendor=1');
    assert.equal(a.parameters.triton_enable_empty_final_response, true);
    assert.deepEqual(a.inputs.text_input, { datatype: 'BYTES', shape: [1, 1], values: [PROMPT] });
    assert.deepEqual(a.inputs.max_tokens, { datatype: 'INT32', shape: [1, 1], values: [8] });
    assert.deepEqual(a.inputs.exclude_input_in_output?.values, [true]);
    assert.deepEqual(a.inputs.stream?.values, [true]);
    assert.deepEqual(a.inputs.seed, { datatype: 'UINT64', shape: [1, 1], values: [7] });
    assert.deepEqual(a.inputs.stop_words, { datatype: 'BYTES', shape: [1, 1], values: ['\n'] });
    assert.deepEqual(a.inputs.return_perf_metrics?.values, [true]);
    assert.deepEqual(a.inputs.return_num_output_tokens?.values, [true]);

    assert.equal(b.model, 'qwen3-vllm');
    assert.match(b.id, /^gw-[0-9a-f]{8}-/);
    assert.notEqual(b.id, a.id);
    assert.equal(b.metadata.traceparent, undefined);
    assert.deepEqual(b.inputs.text_input?.shape, [1]);
    assert.deepEqual(b.inputs.stream?.values, [false]);
    assert.deepEqual(JSON.parse(b.inputs.sampling_parameters!.values[0] as string), { max_tokens: 8, top_k: 3, seed: 7 });
    assert.equal(b.outcome, 'ok');
  });

  it('ids are unique per call', async () => {
    h.sim.reset();
    const schema = await h.schema('qwen3-vllm');
    await Promise.all(Array.from({ length: 20 }, () => collect(h.client.infer(schema, request({ maxTokens: 2 })))));
    const ids = h.sim.received().map((r) => r.id);
    assert.equal(ids.length, 20);
    assert.equal(new Set(ids).size, 20);
  });

  it('inferUnary serves a non-decoupled model, with the same text as the stream path', async () => {
    const schema = await h.schema('llama-unary');
    assert.equal(schema.decoupled, false);
    const unary = await h.client.inferUnary(schema, request({ seed: 3, temperature: 1 }));
    const viaStream = await collect(h.client.infer(schema, request({ seed: 3, temperature: 1, stream: false })));
    assert.equal(unary.final, true);
    assert.equal(unary.text, viaStream.text);
    assert.equal(unary.outputTokens, 8);
    assert.equal(unary.inputTokens, 5);
  });

  it('inferUnary on a decoupled model is upstream_unimplemented', async () => {
    const schema = await h.schema('qwen3-vllm');
    const err = await rejectsWith(h.client.inferUnary(schema, request()), 'upstream_unimplemented');
    assert.equal(err.upstreamFault, false);
  });
});
