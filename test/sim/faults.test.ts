import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { GRPCInferenceServiceClient, ModelStreamInferResponse } from '../../src/triton/generated/grpc_service.js';
import { decodeBytesTensor } from '../../src/triton/bytes-tensor.js';
import {
  bytesInput,
  connect,
  dataResponses,
  inferRequest,
  isFinal,
  openStream,
  outputInt,
  outputRaw,
  runStream,
  trtllmRequest,
  unary,
  vllmRequest,
} from './sim-client.js';
import { waitFor } from './wait-for.js';

describe('faults, set per model at start-up or at run time', () => {
  let sim: RunningSimulator;
  let client: GRPCInferenceServiceClient;
  before(async () => {
    sim = await startSimulator({
      models: [
        { name: 'ens', flavour: 'ensemble' },
        { name: 'vllm', flavour: 'vllm' },
        { name: 'ident', flavour: 'identity' },
        { name: 'broken', flavour: 'vllm', fault: { kind: 'error', code: 'INTERNAL', message: 'engine crashed' } },
      ],
    });
    client = connect(sim.grpcAddress);
  });
  after(async () => {
    client.close();
    await sim.stop();
  });
  beforeEach(() => {
    sim.clearFaults('ens');
    sim.clearFaults('vllm');
    sim.clearFaults('ident');
    sim.reset();
  });

  const stream = (id: string, maxTokens = 4, perf = false) =>
    trtllmRequest('ens', id, { prompt: 'tell me', maxTokens, stream: true, perf });
  const errorsOf = (responses: ModelStreamInferResponse[]) => responses.filter((r) => r.errorMessage !== '').map((r) => r.errorMessage);

  test('a fault from start-up applies from the first request', async () => {
    const r = await runStream(client, [vllmRequest('broken', 'b', { prompt: 'hi' })]);
    assert.deepEqual(errorsOf(r.responses), ['engine crashed']);
  });

  test('error: always, as a status on unary calls', async () => {
    sim.setFault('ident', { kind: 'error', code: 'UNAVAILABLE', message: 'instance restarting' });
    const err = (await unary(client, 'modelInfer', inferRequest('ident', 'u', [bytesInput('INPUT0', ['x'], [1, 1])])).catch((e: unknown) => e)) as ServiceError;
    assert.equal(err.code, status.UNAVAILABLE);
    assert.equal(err.details, 'instance restarting');
  });

  test('error: only the first N requests', async () => {
    sim.setFault('ens', { kind: 'error', code: 'UNAVAILABLE', message: 'warming up', firstN: 2 });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(errorsOf((await runStream(client, [stream(`f${i}`)])).responses).length);
    assert.deepEqual(results, [1, 1, 0, 0]);
  });

  test('error: a seeded fraction, the same requests each time', async () => {
    const pattern = async () => {
      sim.setFault('ens', { kind: 'error', code: 'UNAVAILABLE', message: 'flaky', fraction: 0.5, seed: 11 });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push(errorsOf((await runStream(client, [stream(`p${i}`)])).responses).length);
      return out;
    };
    const first = await pattern();
    const failures = first.filter((n) => n === 1).length;
    assert.ok(failures > 2 && failures < 18, `failures ${failures}`);
    assert.deepEqual(await pattern(), first);
  });

  test('error after N tokens arrives mid-stream', async () => {
    sim.setFault('ens', { kind: 'error', code: 'INTERNAL', message: 'Executor failed mid-stream', afterTokens: 2 });
    const r = await runStream(client, [stream('m', 5)]);
    assert.equal(dataResponses(r).length, 2);
    assert.deepEqual(errorsOf(r.responses), ['Executor failed mid-stream']);
    assert.equal(r.code, status.OK);
  });

  test('hang: nothing is sent until the client cancels', async () => {
    sim.setFault('ens', { kind: 'hang' });
    const open = openStream(client, [stream('h')]);
    await waitFor(() => sim.state().models.ens!.inFlight === 1, 'the hung request to be in flight');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(open.responses.length, 0);
    assert.equal(sim.received().at(-1)!.outcome, 'running');
    open.cancel();
    assert.equal((await open.ended).code, status.CANCELLED);
    await waitFor(() => sim.state().models.ens!.inFlight === 0, 'the cancel to release the slot');
    assert.equal(sim.state().models.ens!.cancellations, 1);
    assert.equal(sim.received().at(-1)!.outcome, 'cancelled');
  });

  test('slow first token and slow tokens show in the timings', async () => {
    sim.setFault('ens', { kind: 'slow-first-token', ms: 60 });
    const t0 = performance.now();
    const slowFirst = await runStream(client, [stream('s1', 2, true)]);
    assert.ok(performance.now() - t0 >= 59);
    const last = dataResponses(slowFirst).at(-1)!;
    assert.ok(outputInt(last, 'first_token_time_ns')! - outputInt(last, 'arrival_time_ns')! >= 59e6);

    sim.setFault('ens', { kind: 'slow-tokens', msPerToken: 20 });
    const slowTokens = await runStream(client, [stream('s2', 4, true)]);
    const end = dataResponses(slowTokens).at(-1)!;
    assert.ok(outputInt(end, 'last_token_time_ns')! - outputInt(end, 'first_token_time_ns')! >= 3 * 19e6);
  });

  test('cut: the call ends with the chosen status after N tokens, or just ends with OK', async () => {
    sim.setFault('ens', { kind: 'cut', afterTokens: 2, code: 'UNAVAILABLE', message: 'connection reset' });
    const cut = await runStream(client, [stream('c1', 6)]);
    assert.equal(cut.code, status.UNAVAILABLE);
    assert.equal(cut.details, 'connection reset');
    assert.equal(dataResponses(cut).length, 2);

    sim.setFault('ens', { kind: 'cut', afterTokens: 3, code: 'OK' });
    const ended = await runStream(client, [stream('c2', 6)]);
    assert.equal(ended.code, status.OK);
    assert.equal(dataResponses(ended).length, 3);
    assert.ok(!ended.responses.some((r) => isFinal(r.inferResponse)));
  });

  test('stall: N tokens, then silence with the call open, until the client cancels', async () => {
    sim.setFault('ens', { kind: 'stall', afterTokens: 2 });
    const open = openStream(client, [stream('st', 6)]);
    await waitFor(() => open.responses.length === 2, 'two tokens');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(open.responses.length, 2);
    assert.equal(sim.state().models.ens!.inFlight, 1);
    open.cancel();
    await open.ended;
    await waitFor(() => sim.state().models.ens!.inFlight === 0, 'the cancel to release the slot');
    assert.equal(sim.state().models.ens!.cancellations, 1);
  });

  test('no-final: every token arrives, none marked final, and the call ends OK', async () => {
    sim.setFault('ens', { kind: 'no-final' });
    const r = await runStream(client, [stream('nf', 3)]);
    assert.equal(r.code, status.OK);
    assert.equal(dataResponses(r).length, 3);
    assert.ok(r.responses.every((x) => !isFinal(x.inferResponse)));
  });

  test('malformed responses: truncated BYTES prefix, missing text_output, raw count mismatch', async () => {
    sim.setFault('ens', { kind: 'malformed', variant: 'truncated-length-prefix' });
    const truncated = dataResponses(await runStream(client, [stream('t', 1)]))[0]!;
    assert.throws(() => decodeBytesTensor(outputRaw(truncated, 'text_output')!), RangeError);

    sim.setFault('ens', { kind: 'malformed', variant: 'missing-text-output' });
    const missing = dataResponses(await runStream(client, [stream('mt', 2)]));
    assert.equal(missing.length, 2);
    assert.ok(missing.every((r) => !r.outputs.some((o) => o.name === 'text_output')));

    sim.setFault('ens', { kind: 'malformed', variant: 'raw-count-mismatch' });
    const mismatch = dataResponses(await runStream(client, [stream('rc', 1)]))[0]!;
    assert.equal(mismatch.rawOutputContents.length, mismatch.outputs.length - 1);
  });

  test('model-ready-error fails ModelReady only, counting ModelReady calls', async () => {
    sim.setFault('vllm', { kind: 'model-ready-error', code: 'UNAVAILABLE', message: 'connection reset', firstN: 1 });
    const failed = (await unary(client, 'modelReady', { name: 'vllm', version: '' }).then(
      () => assert.fail('expected the first ModelReady to fail'),
      (err: unknown) => err,
    )) as ServiceError;
    assert.equal(failed.code, status.UNAVAILABLE);
    assert.equal(failed.details, 'connection reset');
    // Inference is untouched and does not use up the fault's firstN.
    const v = await runStream(client, [vllmRequest('vllm', 'mr1', { prompt: 'hi' })]);
    assert.deepEqual(errorsOf(v.responses), []);
    assert.equal(sim.state().models.vllm!.faultSeen, 1);
    assert.deepEqual(await unary(client, 'modelReady', { name: 'vllm', version: '' }), { ready: true });
    assert.equal(sim.state().models.vllm!.faultSeen, 2);
  });

  test('slow-load delays RepositoryModelLoad only: the load takes effect, and answers, after its delay', async () => {
    sim.setFault('vllm', { kind: 'slow-load', ms: 300, firstN: 1 });
    await unary(client, 'repositoryModelUnload', { repositoryName: '', modelName: 'vllm', parameters: {} });
    let answered = false;
    const load = unary(client, 'repositoryModelLoad', { repositoryName: '', modelName: 'vllm', parameters: {} }).then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(answered, false, 'still loading');
    assert.equal(sim.state().models.vllm!.loaded, false, 'not loaded yet');
    await load;
    assert.equal(sim.state().models.vllm!.loaded, true);
    assert.equal(sim.state().models.vllm!.faultSeen, 1, 'only the load met the fault');
    const v = await runStream(client, [vllmRequest('vllm', 'sl1', { prompt: 'hi' })]);
    assert.deepEqual(errorsOf(v.responses), []);
  });

  test('queue-full: the documented UNAVAILABLE message, prefixed for an ensemble', async () => {
    sim.setFault('vllm', { kind: 'queue-full' });
    const v = await runStream(client, [vllmRequest('vllm', 'q1', { prompt: 'hi' })]);
    assert.deepEqual(errorsOf(v.responses), ['[request id: q1] Exceeds maximum queue size']);
    sim.setFault('ens', { kind: 'queue-full' });
    const e = await runStream(client, [stream('q2')]);
    assert.deepEqual(errorsOf(e.responses), ["in ensemble 'ens', [request id: q2] Exceeds maximum queue size"]);
    sim.setFault('ident', { kind: 'queue-full' });
    const u = (await unary(client, 'modelInfer', inferRequest('ident', 'q3', [bytesInput('INPUT0', ['x'], [1, 1])])).then(
      () => assert.fail('expected queue full'),
      (err: unknown) => err,
    )) as ServiceError;
    assert.equal(u.code, status.UNAVAILABLE);
    assert.equal(u.details, '[request id: q3] Exceeds maximum queue size');
  });

  test('faults can be set, listed and cleared through the HTTP control endpoint', async () => {
    const post = await fetch(`${sim.httpUrl}/control/faults/vllm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'error', code: 'UNAVAILABLE', message: 'from control' }),
    });
    assert.equal(post.status, 200);
    assert.deepEqual(errorsOf((await runStream(client, [vllmRequest('vllm', 'k', { prompt: 'hi' })])).responses), ['from control']);
    const listed = (await (await fetch(`${sim.httpUrl}/control/faults`)).json()) as { faults: Record<string, unknown> };
    assert.equal((listed.faults.vllm as { message: string }).message, 'from control');
    const bad = await fetch(`${sim.httpUrl}/control/faults/vllm`, { method: 'POST', body: JSON.stringify({ kind: 'error', code: 'NOPE', message: 'x' }) });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`${sim.httpUrl}/control/faults/ghost`, { method: 'POST', body: '{"kind":"hang"}' })).status, 404);
    assert.equal((await fetch(`${sim.httpUrl}/control/faults/vllm`, { method: 'DELETE' })).status, 200);
    assert.equal(errorsOf((await runStream(client, [vllmRequest('vllm', 'k2', { prompt: 'hi' })])).responses).length, 0);
  });
});
