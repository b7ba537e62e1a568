/**
 * Every simulator fault, and the real error paths of the backends, reach the caller as the right
 * typed GatewayError (DESIGN §5), in Triton's default stream mode (errors as text) and in
 * `triton_grpc_error` mode (errors as gRPC statuses).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TritonClient } from '../../src/triton/client.js';
import type { FaultSpec } from '../../sim/index.js';
import { collect, eventually, rejectsWith, request, startHarness } from '../helpers/triton-client-harness.js';

const h = await startHarness({
  models: [
    { name: 'ens', flavour: 'ensemble', maxInputTokens: 10 },
    { name: 'bls', flavour: 'tensorrt_llm_bls' },
    { name: 'vllm', flavour: 'vllm', maxInputTokens: 10 },
    { name: 'llmapi', flavour: 'llmapi' },
    // One slot, one queue place, slow tokens: the third concurrent request finds the queue full.
    { name: 'small-queue', flavour: 'vllm', concurrency: 1, maxQueueSize: 1, latency: { timePerTokenMs: 20 } },
    // Without decoupled mode, so that ModelInfer (unary) serves it.
    { name: 'unary', flavour: 'ensemble', decoupled: false },
  ],
});
const grpcErrorClient = new TritonClient({ target: h.sim.grpcAddress, tritonGrpcError: true });
after(() => grpcErrorClient.close());

async function withFault(model: string, fault: FaultSpec, run: () => Promise<void>): Promise<void> {
  h.sim.setFault(model, fault);
  try {
    await run();
  } finally {
    h.sim.clearFaults(model);
  }
}

const infer = async (model: string, over = {}, client = h.client, opts = {}) => collect(client.infer(await h.schema(model), request(over), opts));

describe('error faults (default mode: the code is lost, the message decides)', () => {
  const rows: Array<{ code: string; message: string; expect: string; upstreamFault: boolean }> = [
    { code: 'INTERNAL', message: 'Executor failed process requestId 1 due to the following error: CUDA error', expect: 'upstream_internal', upstreamFault: true },
    { code: 'UNAVAILABLE', message: 'Server not ready', expect: 'upstream_unavailable', upstreamFault: true },
    { code: 'INTERNAL', message: 'Maximum queue size of 64 has been reached', expect: 'upstream_overloaded', upstreamFault: true },
    { code: 'INTERNAL', message: 'Prompt length (9000) exceeds maximum input length (8192).', expect: 'context_length_exceeded', upstreamFault: false },
    // The gateway built the tensors from the model's config: Triton refusing them is a config that changed, not the client.
    { code: 'INVALID_ARGUMENT', message: "unexpected inference input 'foo' for model 'ens'", expect: 'upstream_config_mismatch', upstreamFault: true },
    { code: 'INTERNAL', message: 'Error generating stream: top_p must be in (0, 1], got 1.5.', expect: 'invalid_request', upstreamFault: false },
  ];
  for (const model of ['ens', 'bls', 'vllm']) {
    for (const row of rows) {
      it(`${model}: ${row.code} "${row.message.slice(0, 40)}" -> ${row.expect}`, async () => {
        await withFault(model, { kind: 'error', code: row.code, message: row.message }, async () => {
          const err = await rejectsWith(infer(model), row.expect);
          assert.equal(err.upstreamFault, row.upstreamFault);
          if (row.expect === 'context_length_exceeded') assert.ok(row.message.endsWith(err.message), err.message);
          else assert.ok(err.message.includes(row.message));
        });
      });
    }
  }

  it('an error after some tokens still fails the request (deltas were yielded first)', async () => {
    await withFault('vllm', { kind: 'error', code: 'INTERNAL', message: 'Error generating stream: boom', afterTokens: 3 }, async () => {
      const texts: string[] = [];
      const run = (async () => {
        for await (const d of h.client.infer(await h.schema('vllm'), request())) texts.push(d.text);
      })();
      await rejectsWith(run, 'upstream_internal');
      assert.equal(texts.length, 3);
    });
  });

  it('firstN: only the first request fails', async () => {
    await withFault('llmapi', { kind: 'error', code: 'INTERNAL', message: 'boom', firstN: 1 }, async () => {
      await rejectsWith(infer('llmapi'), 'upstream_internal');
      const ok = await infer('llmapi');
      assert.equal(ok.finishReason, 'length');
    });
  });
});

describe('error faults in triton_grpc_error mode (the status code is kept)', () => {
  const rows = [
    { code: 'UNAVAILABLE', message: 'engine restarting', expect: 'upstream_unavailable' },
    { code: 'INTERNAL', message: 'boom', expect: 'upstream_internal' },
    { code: 'INVALID_ARGUMENT', message: 'bad stop words', expect: 'invalid_request' },
    { code: 'NOT_FOUND', message: 'lora not found', expect: 'model_not_ready' },
    { code: 'UNIMPLEMENTED', message: 'not here', expect: 'upstream_unimplemented' },
  ];
  for (const row of rows) {
    it(`${row.code} -> ${row.expect}`, async () => {
      await withFault('ens', { kind: 'error', code: row.code, message: row.message }, async () => {
        h.sim.reset();
        await rejectsWith(infer('ens', {}, grpcErrorClient), row.expect);
        assert.equal(h.sim.received()[0]?.metadata.triton_grpc_error, 'true');
      });
    });
  }
});

describe('stream-shape faults', () => {
  it('cut (stream closed with UNAVAILABLE after N tokens) -> upstream_unavailable, counted against the upstream', async () => {
    await withFault('ens', { kind: 'cut', afterTokens: 2 }, async () => {
      const err = await rejectsWith(infer('ens'), 'upstream_unavailable');
      assert.equal(err.upstreamFault, true);
    });
  });

  it('cut with INTERNAL -> upstream_internal', async () => {
    await withFault('vllm', { kind: 'cut', afterTokens: 1, code: 'INTERNAL', message: 'connection reset' }, async () => {
      await rejectsWith(infer('vllm'), 'upstream_internal');
    });
  });

  // Triton answers CANCELLED to calls it drops while shutting down; the gateway's own cancels
  // never reach a caller as a status (they are client_cancelled at once).
  it('Triton cancelling a stream or a unary call -> upstream_unavailable, not the client leaving', async () => {
    await withFault('vllm', { kind: 'cut', afterTokens: 1, code: 'CANCELLED', message: 'server shutting down' }, async () => {
      const err = await rejectsWith(infer('vllm'), 'upstream_unavailable');
      assert.equal(err.upstreamFault, true);
      assert.equal(err.clientMessage, 'Triton cancelled the call');
    });
    await withFault('unary', { kind: 'error', code: 'CANCELLED', message: 'server shutting down' }, async () => {
      const err = await rejectsWith(h.client.inferUnary(await h.schema('unary'), request({ stream: false })), 'upstream_unavailable');
      assert.equal(err.upstreamFault, true);
    });
    await withFault('vllm', { kind: 'model-ready-error', code: 'CANCELLED', message: 'server shutting down' }, async () => {
      await rejectsWith(h.client.modelReady('vllm'), 'upstream_unavailable');
    });
  });

  it('cut with OK (stream ends cleanly, no final) -> upstream_stream_incomplete', async () => {
    await withFault('vllm', { kind: 'cut', afterTokens: 2, code: 'OK' }, async () => {
      const err = await rejectsWith(infer('vllm'), 'upstream_stream_incomplete');
      assert.equal(err.upstreamFault, true);
      assert.equal(err.retryable, true);
    });
  });

  for (const model of ['ens', 'vllm']) {
    it(`${model}: no final flag -> upstream_stream_incomplete`, async () => {
      await withFault(model, { kind: 'no-final' }, async () => {
        await rejectsWith(infer(model), 'upstream_stream_incomplete');
        await rejectsWith(infer(model, { stream: false }), 'upstream_stream_incomplete');
      });
    });
  }

  for (const variant of ['truncated-length-prefix', 'missing-text-output', 'raw-count-mismatch'] as const) {
    it(`malformed ${variant} -> upstream_bad_response`, async () => {
      await withFault('ens', { kind: 'malformed', variant }, async () => {
        const err = await rejectsWith(infer('ens'), 'upstream_bad_response');
        assert.equal(err.status, 502);
      });
      // The call is cancelled when decoding fails, so the simulator frees the slot.
      await eventually(() => assert.equal(h.sim.state().models.ens?.inFlight, 0));
    });
  }

  it('hang + deadline -> upstream_timeout, and the hung request is released', async () => {
    await withFault('bls', { kind: 'hang' }, async () => {
      await rejectsWith(infer('bls', {}, h.client, { deadline: Date.now() + 100 }), 'upstream_timeout');
      await eventually(() => assert.equal(h.sim.state().models.bls?.inFlight, 0));
    });
  });

  it('stall mid-stream + deadline -> upstream_timeout after the first tokens', async () => {
    await withFault('vllm', { kind: 'stall', afterTokens: 2 }, async () => {
      const texts: string[] = [];
      const run = (async () => {
        for await (const d of h.client.infer(await h.schema('vllm'), request(), { deadline: Date.now() + 150 })) texts.push(d.text);
      })();
      await rejectsWith(run, 'upstream_timeout');
      assert.equal(texts.length, 2);
    });
  });

  it('slow first token within the deadline succeeds; beyond it times out', async () => {
    await withFault('llmapi', { kind: 'slow-first-token', ms: 150 }, async () => {
      const ok = await infer('llmapi', {}, h.client, { deadline: Date.now() + 5_000 });
      assert.equal(ok.deltas.length, 8);
      await rejectsWith(infer('llmapi', {}, h.client, { deadline: Date.now() + 50 }), 'upstream_timeout');
    });
  });

  it('slow tokens still produce the whole answer', async () => {
    await withFault('vllm', { kind: 'slow-tokens', msPerToken: 5 }, async () => {
      const r = await infer('vllm', { maxTokens: 4 });
      assert.equal(r.outputTokens, 4);
    });
  });
});

describe('overload and request errors from the backends themselves', () => {
  it('queue-full fault -> upstream_overloaded (retryable, Retry-After)', async () => {
    for (const model of ['ens', 'vllm']) {
      await withFault(model, { kind: 'queue-full' }, async () => {
        const err = await rejectsWith(infer(model), 'upstream_overloaded');
        assert.equal(err.status, 503);
        assert.equal(err.retryable, true);
        assert.equal(err.retryAfterSeconds, 1);
        assert.match(err.message, /Exceeds maximum queue size/);
      });
    }
  });

  it('a really full queue -> upstream_overloaded', async () => {
    const schema = await h.schema('small-queue');
    const ac = new AbortController();
    const long = () => collect(h.client.infer(schema, request({ maxTokens: 100 }), { signal: ac.signal })).catch(() => undefined);
    const running = long();
    await eventually(() => assert.equal(h.sim.state().models['small-queue']?.inFlight, 1));
    const queued = long();
    await eventually(() => assert.equal(h.sim.state().models['small-queue']?.queued, 1));
    await rejectsWith(collect(h.client.infer(schema, request())), 'upstream_overloaded');
    ac.abort();
    await Promise.all([running, queued]);
  });

  it('a prompt longer than the model takes -> context_length_exceeded (TRT-LLM and vLLM wording)', async () => {
    const prompt = 'one two three four five six seven eight nine ten eleven';
    for (const model of ['ens', 'vllm']) {
      const err = await rejectsWith(infer(model, { prompt }), 'context_length_exceeded');
      assert.equal(err.upstreamFault, false);
      assert.equal(err.retryable, false);
      assert.equal(err.param, 'prompt');
    }
  });

  // The gateway asks only for models it serves, so Triton not having one is Triton's outage.
  it('a model Triton does not have -> model_not_ready (NOT_FOUND), counted against the upstream', async () => {
    const schema = { ...(await h.schema('vllm')), name: 'no-such-model' };
    const err = await rejectsWith(collect(h.client.infer(schema, request())), 'model_not_ready');
    assert.equal(err.status, 503);
    assert.equal(err.upstreamFault, true);
    assert.match(err.message, /Request for unknown model: 'no-such-model' is not found/);
    await rejectsWith(h.client.modelConfig('no-such-model'), 'model_not_ready');
    await rejectsWith(h.client.modelReady('no-such-model'), 'model_not_ready');
  });

  it('an unloaded model -> model_not_ready until it is loaded again', async () => {
    const schema = await h.schema('llmapi');
    await h.client.unloadModel('llmapi');
    try {
      await rejectsWith(collect(h.client.infer(schema, request())), 'model_not_ready');
      await rejectsWith(h.client.unloadModel('llmapi'), 'invalid_request');
    } finally {
      await h.client.loadModel('llmapi');
    }
    assert.equal(await h.client.modelReady('llmapi'), true);
    await collect(h.client.infer(schema, request()));
  });

  it('a pinned version that does not exist -> model_not_ready', async () => {
    const schema = await h.schema('vllm');
    await rejectsWith(collect(h.client.infer(schema, request(), { version: '9' })), 'model_not_ready');
  });
});
