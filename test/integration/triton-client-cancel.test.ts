/**
 * Cancellation and deadlines: an AbortSignal or a consumer that stops reading must cancel the
 * gRPC call, so the simulator (like Triton) records a cancel and frees the slot; a deadline
 * surfaces as upstream_timeout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TritonClient } from '../../src/triton/client.js';
import { collect, eventually, rejectsWith, request, startHarness } from '../helpers/triton-client-harness.js';

const MODEL = 'slow-ensemble';
const h = await startHarness({
  models: [
    // 20 ms per token: a 200-token answer takes 4 s, far longer than any of these tests wait.
    { name: MODEL, flavour: 'ensemble', latency: { timePerTokenMs: 20 } },
    { name: 'slow-vllm', flavour: 'vllm', latency: { timePerTokenMs: 20 } },
    { name: 'slow-unary', flavour: 'ensemble', decoupled: false, latency: { timePerTokenMs: 20 } },
  ],
});

function modelState(name = MODEL) {
  const s = h.sim.state().models[name];
  assert.ok(s !== undefined);
  return s;
}

describe('cancellation', () => {
  it('an AbortSignal mid-stream cancels the call: client_cancelled, the sim records the cancel, in-flight drops to 0', async () => {
    h.sim.reset();
    const schema = await h.schema(MODEL);
    const ac = new AbortController();
    const seen: string[] = [];
    const consume = (async () => {
      for await (const d of h.client.infer(schema, request({ maxTokens: 200 }), { signal: ac.signal })) {
        seen.push(d.text);
        if (seen.length === 2) ac.abort();
      }
    })();
    const err = await rejectsWith(consume, 'client_cancelled');
    assert.equal(err.upstreamFault, false);
    assert.equal(seen.length, 2);
    await eventually(() => {
      const s = modelState();
      assert.equal(s.cancellations, 1);
      assert.equal(s.inFlight, 0);
      assert.equal(h.sim.state().openStreams, 0);
    });
    assert.equal(h.sim.received()[0]?.outcome, 'cancelled');
  });

  it('an abort while waiting for the first token cancels too', async () => {
    h.sim.reset();
    const schema = await h.schema('slow-vllm');
    const ac = new AbortController();
    const gen = h.client.infer(schema, request({ maxTokens: 200, stream: false }), { signal: ac.signal });
    const first = gen.next();
    await eventually(() => assert.equal(modelState('slow-vllm').inFlight, 1));
    ac.abort();
    await rejectsWith(first, 'client_cancelled');
    await eventually(() => {
      assert.equal(modelState('slow-vllm').cancellations, 1);
      assert.equal(modelState('slow-vllm').inFlight, 0);
    });
  });

  it('a consumer that breaks out early cancels the call', async () => {
    h.sim.reset();
    const schema = await h.schema(MODEL);
    let n = 0;
    for await (const _ of h.client.infer(schema, request({ maxTokens: 200 }))) {
      if (++n === 3) break;
    }
    await eventually(() => {
      assert.equal(modelState().cancellations, 1);
      assert.equal(modelState().inFlight, 0);
    });
  });

  it('an already-aborted signal fails before anything is sent', async () => {
    h.sim.reset();
    const schema = await h.schema(MODEL);
    await rejectsWith(collect(h.client.infer(schema, request(), { signal: AbortSignal.abort() })), 'client_cancelled');
    assert.equal(h.sim.received().length, 0);
  });

  it('a completed request is not cancelled afterwards', async () => {
    h.sim.reset();
    const schema = await h.schema(MODEL);
    const ac = new AbortController();
    const r = await collect(h.client.infer(schema, request({ maxTokens: 3 }), { signal: ac.signal }));
    ac.abort();
    assert.equal(r.outputTokens, 3);
    await eventually(() => assert.equal(h.sim.state().openStreams, 0));
    assert.equal(modelState().cancellations, 0);
    assert.equal(h.sim.received()[0]?.outcome, 'ok');
  });
});

describe('unary ModelInfer', () => {
  it('an AbortSignal cancels inferUnary', async () => {
    h.sim.reset();
    const schema = await h.schema('slow-unary');
    const ac = new AbortController();
    const pending = h.client.inferUnary(schema, request({ maxTokens: 200 }), { signal: ac.signal });
    await eventually(() => assert.equal(modelState('slow-unary').inFlight, 1));
    ac.abort();
    await rejectsWith(pending, 'client_cancelled');
    await eventually(() => {
      assert.equal(modelState('slow-unary').cancellations, 1);
      assert.equal(modelState('slow-unary').inFlight, 0);
    });
  });

  it('inferUnary has no deadline of its own (longer than the admin deadline is fine), and honours a given one', async () => {
    const schema = await h.schema('slow-unary');
    const slowClient = new TritonClient({ target: h.sim.grpcAddress, adminDeadlineMs: 50 });
    try {
      const r = await slowClient.inferUnary(schema, request({ maxTokens: 8 }));
      assert.equal(r.outputTokens, 8);
    } finally {
      slowClient.close();
    }
    await rejectsWith(h.client.inferUnary(schema, request({ maxTokens: 200 }), { deadline: Date.now() + 100 }), 'upstream_timeout');
  });
});

describe('deadlines', () => {
  it('a deadline that passes mid-generation is upstream_timeout, and Triton stops generating', async () => {
    h.sim.reset();
    const schema = await h.schema(MODEL);
    const err = await rejectsWith(collect(h.client.infer(schema, request({ maxTokens: 200 }), { deadline: Date.now() + 150 })), 'upstream_timeout');
    assert.equal(err.status, 504);
    assert.equal(err.upstreamFault, true);
    assert.equal(err.retryable, true);
    await eventually(() => {
      assert.equal(modelState().inFlight, 0);
      assert.equal(modelState().cancellations, 1);
    });
  });

  it('a deadline already in the past is upstream_timeout', async () => {
    const schema = await h.schema(MODEL);
    await rejectsWith(collect(h.client.infer(schema, request(), { deadline: Date.now() - 1 })), 'upstream_timeout');
  });

  it('a generous deadline does not disturb a normal request', async () => {
    const schema = await h.schema(MODEL);
    const r = await collect(h.client.infer(schema, request({ maxTokens: 3 }), { deadline: Date.now() + 10_000 }));
    assert.equal(r.outputTokens, 3);
  });
});
