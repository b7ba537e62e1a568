/**
 * TritonClient.infer with `multiplex: true` against the simulator over real gRPC: non-streamed
 * requests share the client's long-lived ModelStreamInfer streams, each finds its own answers
 * by request id, and a failed stream takes only its own requests with it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { collect, eventually, rejectsWith, request, startHarness } from '../helpers/triton-client-harness.js';

const h = await startHarness(
  {
    models: [
      { name: 'llama-3-8b-trtllm', flavour: 'ensemble' },
      { name: 'qwen3-vllm', flavour: 'vllm' },
      // Slow enough that several requests are on one stream at once.
      { name: 'slow-trtllm', flavour: 'ensemble', latency: { timeToFirstTokenMs: 150, timePerTokenMs: 10 } },
    ],
  },
  { multiplexStreams: 2 },
);

const mux = { multiplex: true };

describe('multiplexed non-streamed requests', () => {
  it('share the pool of streams, and each gets the answer it would get on its own stream', async () => {
    h.sim.reset();
    const before = h.sim.state().openStreams;
    for (const model of ['llama-3-8b-trtllm', 'qwen3-vllm']) {
      const schema = await h.schema(model);
      const asks = Array.from({ length: 40 }, (_, i) => request({ prompt: `Question number ${i} about the theory of everything`, maxTokens: 4 + (i % 5), stream: false, seed: i, temperature: 0.7 }));
      const shared = await Promise.all(asks.map((r) => collect(h.client.infer(schema, r, mux))));
      const alone = await Promise.all(asks.map((r) => collect(h.client.infer(schema, r))));
      for (let i = 0; i < asks.length; i++) {
        assert.equal(shared[i]!.text, alone[i]!.text, `request ${i} of ${model}`);
        assert.equal(shared[i]!.outputTokens, alone[i]!.outputTokens);
        assert.equal(shared[i]!.deltas.filter((d) => d.final).length, 1);
      }
    }
    // The 80 shared requests used the client's two streams, which stay open for the next ones;
    // the 80 others each opened and closed a stream of their own.
    assert.equal(h.sim.state().openStreams - before, 2);
    const ids = new Set(h.sim.received().map((r) => r.id));
    assert.equal(ids.size, 160, 'every request carried its own id');
  });

  it('a streamed request never shares a stream, even when asked to', async () => {
    const schema = await h.schema('slow-trtllm');
    const before = h.sim.state().openStreams;
    const gen = h.client.infer(schema, request({ stream: true, maxTokens: 6 }), mux);
    const first = await gen.next();
    assert.equal(first.done, false);
    assert.equal(h.sim.state().openStreams, before + 1);
    const rest = await collect(gen);
    assert.ok(rest.deltas.length >= 5);
    await eventually(() => assert.equal(h.sim.state().openStreams, before));
  });

  it('an error for one request on a shared stream fails that request only', async () => {
    const schema = await h.schema('slow-trtllm');
    h.sim.setFault('slow-trtllm', { kind: 'error', code: 'INVALID_ARGUMENT', message: 'bad sampling parameters', firstN: 1 });
    try {
      const runs = Array.from({ length: 4 }, (_, i) => collect(h.client.infer(schema, request({ stream: false, prompt: `p${i}` }), mux)));
      const settled = await Promise.allSettled(runs);
      assert.equal(settled.filter((s) => s.status === 'rejected').length, 1);
      assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 3);
    } finally {
      h.sim.clearFaults();
    }
  });

  it('a stream cut fails the requests on it with a retryable error; the next request opens a new stream', async () => {
    const schema = await h.schema('slow-trtllm');
    // cut ends the whole call: every request on that stream fails, not just the faulty one.
    h.sim.setFault('slow-trtllm', { kind: 'cut', afterTokens: 0, code: 'UNAVAILABLE', message: 'socket closed', firstN: 1 });
    try {
      const runs = Array.from({ length: 6 }, (_, i) => collect(h.client.infer(schema, request({ stream: false, prompt: `p${i}` }), mux)));
      const settled = await Promise.allSettled(runs);
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      // Six requests over two streams: the cut stream carried three of them.
      assert.equal(failed.length, 3);
      for (const f of failed) {
        assert.equal(f.reason.code, 'upstream_unavailable');
        assert.equal(f.reason.retryable, true);
      }
    } finally {
      h.sim.clearFaults();
    }
    const after = await collect(h.client.infer(schema, request({ stream: false }), mux));
    assert.ok(after.text.length > 0);
  });

  it('Triton cancelling a shared stream is an unavailable upstream, not the client leaving', async () => {
    const schema = await h.schema('slow-trtllm');
    // Triton answers CANCELLED when it shuts down; the gateway never cancels a shared stream.
    h.sim.setFault('slow-trtllm', { kind: 'cut', afterTokens: 0, code: 'CANCELLED', message: 'server shutting down', firstN: 1 });
    try {
      const runs = Array.from({ length: 6 }, (_, i) => collect(h.client.infer(schema, request({ stream: false, prompt: `p${i}` }), mux)));
      const failed = (await Promise.allSettled(runs)).filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      assert.ok(failed.length > 0);
      for (const f of failed) {
        assert.equal(f.reason.code, 'upstream_unavailable');
        assert.equal(f.reason.retryable, true);
        assert.equal(f.reason.upstreamFault, true);
      }
    } finally {
      h.sim.clearFaults();
    }
  });

  it('an aborted request fails as client_cancelled and leaves the others on its stream alone', async () => {
    const schema = await h.schema('slow-trtllm');
    const controller = new AbortController();
    const gone = collect(h.client.infer(schema, request({ stream: false, prompt: 'leaving' }), { multiplex: true, signal: controller.signal }));
    const staying = Array.from({ length: 3 }, (_, i) => collect(h.client.infer(schema, request({ stream: false, prompt: `staying ${i}` }), mux)));
    await sleep(30);
    controller.abort();
    await rejectsWith(gone, 'client_cancelled');
    for (const r of await Promise.all(staying)) assert.ok(r.text.length > 0);
    // The price of sharing: Triton was not told, and finished the abandoned request.
    await eventually(() => {
      const rec = h.sim.received().find((r) => JSON.stringify(r.inputs).includes('leaving'));
      assert.equal(rec?.outcome, 'ok');
    });
  });
});
