import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { RecordedRequest, SimState } from '../../sim/index.js';
import { countTokens } from '../../sim/text/tokenizer.js';

describe('HTTP: health, generate, generate_stream and the control API', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({
      models: [
        { name: 'vllm', flavour: 'vllm' },
        { name: 'ens', flavour: 'ensemble' },
      ],
    });
  });
  after(async () => {
    await sim.stop();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${sim.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  test('/v2/health/live and /v2/health/ready follow server readiness', async () => {
    assert.equal((await fetch(`${sim.httpUrl}/v2/health/live`)).status, 200);
    assert.equal((await fetch(`${sim.httpUrl}/v2/health/ready`)).status, 200);
    await post('/control/ready', { ready: false });
    assert.equal((await fetch(`${sim.httpUrl}/v2/health/ready`)).status, 400);
    assert.equal(sim.state().ready, false);
    await post('/control/ready', { ready: true });
    assert.equal((await fetch(`${sim.httpUrl}/v2/health/ready`)).status, 200);
  });

  test('generate maps keys to input tensors or request parameters and flattens the outputs', async () => {
    const res = await post('/v2/models/vllm/generate', {
      id: 'g1',
      text_input: 'What is machine learning?',
      parameters: { stream: false, temperature: 0, max_tokens: 5, exclude_input_in_output: true, return_num_output_tokens: true },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.id, 'g1');
    assert.equal(body.model_name, 'vllm');
    assert.equal(body.model_version, '1');
    assert.equal(typeof body.text_output, 'string');
    assert.equal(countTokens(body.text_output as string), 5);
    assert.equal(body.num_output_tokens, 5);
    const recorded = sim.received().find((r) => r.id === 'g1')!;
    assert.equal(recorded.transport, 'http-generate');
    assert.equal(recorded.parameters.temperature, 0);
    assert.deepEqual(recorded.inputs.stream, { datatype: 'BOOL', shape: [1], values: [false] });
  });

  test('generate on a request that streams several responses is the documented error', async () => {
    const res = await post('/v2/models/vllm/generate', { text_input: 'hi', parameters: { stream: true, max_tokens: 3 } });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      error: 'generate expects model to produce exactly 1 response, use generate stream for model that generates various number of responses',
    });
  });

  test('generate_stream sends one SSE data event per response, deltas matching the non-streamed text', async () => {
    const params = { temperature: 0, max_tokens: 6 };
    const res = await post('/v2/models/vllm/generate_stream', { text_input: 'Tell me more', stream: true, parameters: params });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean);
    assert.equal(events.length, 6);
    assert.ok(!text.includes('[DONE]'));
    const deltas = events.map((e) => (JSON.parse(e.replace(/^data: /, '')) as { text_output: string }).text_output);
    const whole = (await (await post('/v2/models/vllm/generate', { text_input: 'Tell me more', exclude_input_in_output: true, parameters: params })).json()) as {
      text_output: string;
    };
    assert.equal(deltas.join(''), whole.text_output);
  });

  test('generate on a TRT-LLM ensemble shapes inputs with the batch dim', async () => {
    const res = await post('/v2/models/ens/generate', { text_input: 'hello world', max_tokens: 4, exclude_input_in_output: true });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { text_output: string };
    assert.equal(countTokens(body.text_output), 4);
    const recorded = sim.received().at(-1)!;
    assert.deepEqual(recorded.inputs.max_tokens!.shape, [1, 1]);
  });

  test('errors before inference are JSON errors with Triton HTTP statuses', async () => {
    const unknown = await post('/v2/models/ghost/generate', { text_input: 'hi' });
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: "Request for unknown model: 'ghost' is not found" });
    const missing = await post('/v2/models/ens/generate', { text_input: 'hi' });
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as { error: string }).error, /missing required input\(s\) \['max_tokens'\]/);
    assert.equal((await fetch(`${sim.httpUrl}/v2/models/vllm/generate`)).status, 405);
  });

  test('a mid-stream error is an SSE error event with status 200', async () => {
    sim.setFault('vllm', { kind: 'error', code: 'INTERNAL', message: 'boom', afterTokens: 2 });
    try {
      const res = await post('/v2/models/vllm/generate_stream', { text_input: 'hi', stream: true, parameters: { max_tokens: 5 } });
      assert.equal(res.status, 200);
      const events = (await res.text()).split('\n\n').filter(Boolean);
      assert.equal(events.length, 3);
      assert.deepEqual(JSON.parse(events[2]!.replace(/^data: /, '')), { error: 'boom' });
    } finally {
      sim.clearFaults('vllm');
    }
  });

  test('control: recorded requests with metadata, state counters, reset', async () => {
    await post('/v2/models/vllm/generate', { id: 'traced', text_input: 'hi', parameters: { max_tokens: 1 } }, {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const { requests } = (await (await fetch(`${sim.httpUrl}/control/requests?last=1`)).json()) as { requests: RecordedRequest[] };
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.id, 'traced');
    assert.equal(requests[0]!.metadata.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.deepEqual(requests[0]!.inputs.text_input!.values, ['hi']);
    assert.equal(requests[0]!.outcome, 'ok');
    const state = (await (await fetch(`${sim.httpUrl}/control/state`)).json()) as SimState;
    assert.ok(state.models.vllm!.received >= 5);
    assert.equal(state.models.vllm!.inFlight, 0);
    assert.equal(state.gpus.length, 1);
    assert.equal((await post('/control/reset', {})).status, 200);
    const cleared = (await (await fetch(`${sim.httpUrl}/control/requests`)).json()) as { requests: RecordedRequest[] };
    assert.equal(cleared.requests.length, 0);
    assert.equal(sim.state().models.vllm!.received, 0);
  });
});
