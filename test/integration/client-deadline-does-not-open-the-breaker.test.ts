/**
 * A client's own short deadline (`x-request-timeout-ms`) running out is that client's 504, not a
 * Triton fault: however many such requests there are, the breaker stays closed for everyone
 * else. The model's own deadline running out still counts (circuit-breaker-lifecycle.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => stack.close());

async function complete(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'llama-3-8b', prompt: 'hello', max_tokens: 4, ...body }),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

test("clients' own short deadlines do not open the breaker for the others", async () => {
  // Triton is healthy but takes 400 ms to its first token (a long prompt, say).
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'slow-first-token', ms: 400 });
  const { volumeThreshold } = stack.config.resilience.breaker;
  const impatient: number[] = [];
  for (let i = 0; i < volumeThreshold * 2; i += 1) {
    // Both kinds: non-streamed (the gRPC deadline) and streamed (the first-response watchdog).
    impatient.push((await complete({ stream: i % 2 === 1 }, { 'x-request-timeout-ms': '100' })).status);
  }
  assert.ok(impatient.every((s) => s === 504), `each impatient client gets its 504: ${impatient}`);
  assert.equal(stack.app.services.breakers.state('primary', 'llama-3-8b-trtllm'), 'closed');
  const patient = await complete({});
  assert.equal(patient.status, 200, JSON.stringify(patient.body));
  assert.equal(patient.body.model, 'llama-3-8b');
});
