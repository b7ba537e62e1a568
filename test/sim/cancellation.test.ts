import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { GRPCInferenceServiceClient } from '../../src/triton/generated/grpc_service.js';
import { connect, dataResponses, openStream, trtllmRequest } from './sim-client.js';
import { waitFor } from './wait-for.js';

describe('client cancellation of ModelStreamInfer', () => {
  let sim: RunningSimulator;
  let client: GRPCInferenceServiceClient;
  before(async () => {
    sim = await startSimulator({
      models: [{ name: 'ens', flavour: 'ensemble', latency: { timePerTokenMs: 5 } }],
    });
    client = connect(sim.grpcAddress);
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  test('cancelling the call stops generation, records the cancel and drops the in-flight count', async () => {
    const md = new Metadata();
    md.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const open = openStream(
      client,
      [
        trtllmRequest('ens', 'one', { prompt: 'a long answer please', maxTokens: 500, stream: true }),
        trtllmRequest('ens', 'two', { prompt: 'another long answer', maxTokens: 500, stream: true }),
      ],
      md,
    );
    await waitFor(() => sim.state().models.ens!.inFlight === 2 && open.responses.length >= 4, 'both requests generating');
    assert.equal(sim.state().openStreams, 1);
    open.cancel();
    const ended = await open.ended;
    assert.equal(ended.code, status.CANCELLED);
    await waitFor(() => sim.state().models.ens!.inFlight === 0, 'in-flight to drop');
    const state = sim.state();
    assert.equal(state.models.ens!.cancellations, 2, 'cancelling the call cancels every request on it');
    assert.equal(state.models.ens!.completed, 0);
    assert.equal(state.openStreams, 0);
    const seen = dataResponses(ended).length;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(dataResponses(ended).length, seen, 'nothing more after the cancel');
    const recorded = sim.received().filter((r) => r.model === 'ens');
    assert.deepEqual(recorded.map((r) => r.outcome), ['cancelled', 'cancelled']);
    assert.equal(recorded[0]!.metadata.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    assert.equal(state.gpus[0]!.activeSequences, 0);

    const metrics = await (await fetch(sim.metricsUrl)).text();
    assert.match(metrics, /nv_inference_request_failure\{model="ens",version="1",reason="CANCELED"\} 2/);
  });
});
