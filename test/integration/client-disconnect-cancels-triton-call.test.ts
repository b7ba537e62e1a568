/**
 * A client that goes away mid-stream must stop the generation on Triton: the gateway cancels
 * its gRPC call and the simulator records the cancel.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => stack.close());

test('aborting a stream cancels the Triton call and frees the slot', async () => {
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 50 });
  const before = stack.sim.state().models['llama-3-8b-trtllm']!.cancellations;
  const controller = new AbortController();
  const res = await fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama-3-8b', prompt: 'a long story', max_tokens: 400, stream: true }),
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.ok(first.value && first.value.length > 0);
  assert.equal(stack.sim.state().models['llama-3-8b-trtllm']!.inFlight, 1);
  controller.abort();
  await eventually(() => stack.sim.state().models['llama-3-8b-trtllm']!.cancellations === before + 1, 5000, 'the simulator to record the cancel');
  await eventually(() => stack.sim.state().models['llama-3-8b-trtllm']!.inFlight === 0, 5000, 'in-flight to drop');
  await eventually(() => stack.app.services.admission.state.inFlight === 0, 5000, 'the admission slot to be released');
  const metrics = await (await fetch(`${stack.url}/metrics`)).text();
  assert.match(metrics, /streams_aborted_total\{model_name="llama-3-8b",phase="client_disconnect"\} 1/);
  stack.sim.clearFaults();
});

test('aborting a non-streamed request cancels the Triton call too', async () => {
  stack.sim.setFault('qwen3-vllm', { kind: 'hang' });
  const before = stack.sim.state().models['qwen3-vllm']!.cancellations;
  const controller = new AbortController();
  const pending = fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'qwen3', prompt: 'anything', max_tokens: 4 }),
    signal: controller.signal,
  }).catch((err: unknown) => err);
  await eventually(() => stack.sim.state().models['qwen3-vllm']!.inFlight === 1, 5000, 'the request to reach the simulator');
  controller.abort();
  await pending;
  await eventually(() => stack.sim.state().models['qwen3-vllm']!.cancellations === before + 1, 5000, 'the cancel');
  stack.sim.clearFaults();
});
