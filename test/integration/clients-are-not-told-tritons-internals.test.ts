/**
 * A client is told what failed in the gateway's words, never in Triton's: Triton's text names its
 * addresses, repository paths and backend internals, which are on-call's (the completion line's
 * error_message, /debug/diagnostics), not anyone's who can send a request. The client's own
 * mistakes keep Triton's sentence, since the client has to fix them.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { complete, completeStream } from '../helpers/openai-http.js';
import { neverOpeningBreakers, startResilienceStack } from '../helpers/resilience-stack.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const adminToken = 'admin-token-for-internals-0123';
const solo = 'llama-3-8b-bls';
// What a Python or BLS backend might put in an error: a path, an address, a traceback line.
const internals = 'Traceback: /models/llama-3-8b-bls/1/model.py line 42: NCCL error at 10.0.0.5:8001';

let stack: Stack;
before(async () => {
  stack = await startResilienceStack({ env: { GATEWAY_ADMIN_TOKEN: adminToken }, config: neverOpeningBreakers() });
});
after(async () => stack.close());
beforeEach(() => stack.sim.clearFaults());

const ask = { model: 'solo', prompt: 'tell me more', max_tokens: 8, temperature: 0 };

/** The request's completion line, once written (the observer writes it when the response has finished). */
async function completionLine(requestId: string | null): Promise<Record<string, unknown>> {
  const find = () => stack.logs.find('request completed').find((l) => l.reqId === requestId);
  await eventually(() => find() !== undefined, 5_000, `the completion line of ${requestId}`);
  return find()!;
}

test("a 502 says 'Triton failed to serve the request'; Triton's text is in the completion line", async () => {
  stack.sim.setFault(solo, { kind: 'error', code: 'INTERNAL', message: internals });
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 502);
  assert.equal(res.body.error.code, 'upstream_internal');
  assert.equal(res.body.error.message, 'Triton failed to serve the request');
  assert.ok(!JSON.stringify(res.body).includes('10.0.0.5') && !JSON.stringify(res.body).includes('model.py'), JSON.stringify(res.body));
  const line = await completionLine(res.headers.get('x-request-id'));
  assert.equal(line.error_code, 'upstream_internal');
  assert.match(String(line.error_message), /model\.py line 42: NCCL error at 10\.0\.0\.5:8001/);
});

test("a stream that fails after its first tokens ends with the gateway's sentence; the line keeps Triton's", async () => {
  stack.sim.setFault(solo, { kind: 'cut', afterTokens: 2, code: 'UNAVAILABLE', message: internals });
  const res = await completeStream(stack.url, ask);
  assert.equal(res.status, 200);
  const last = res.events.at(-1)!;
  assert.equal(last.event, 'error', res.raw);
  assert.equal(last.data.error.code, 'upstream_unavailable');
  assert.equal(last.data.error.message, 'Triton is unavailable');
  assert.ok(!res.raw.includes('10.0.0.5'), res.raw);
  assert.match(String((await completionLine(res.headers.get('x-request-id'))).error_message), /NCCL error at 10\.0\.0\.5:8001/);
});

test("with no upstream left, the answer carries the last route's public sentence, not Triton's text", async () => {
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'error', code: 'INTERNAL', message: internals });
  stack.sim.setFault('qwen3-vllm', { kind: 'error', code: 'INTERNAL', message: internals });
  const res = await complete(stack.url, { ...ask, model: 'llama-3-8b' });
  assert.equal(res.status, 503);
  assert.equal(res.body.error.code, 'all_upstreams_unavailable');
  assert.equal(res.body.error.message, "No upstream could serve 'llama-3-8b': Triton failed to serve the request");
  assert.match(String((await completionLine(res.headers.get('x-request-id'))).error_message), /NCCL error/);
});

test("the client's own mistake keeps Triton's sentence, and its line no error_message", async () => {
  const tooLong = "in ensemble 'ensemble', Executor failed process requestId 3 due to the following error: Prompt length (9000) exceeds maximum input length (8192).";
  stack.sim.setFault(solo, { kind: 'error', code: 'INVALID_ARGUMENT', message: tooLong });
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'context_length_exceeded');
  assert.equal(res.body.error.message, 'Prompt length (9000) exceeds maximum input length (8192).');
  assert.equal((await completionLine(res.headers.get('x-request-id'))).error_message, null);
});

test("an unreachable Triton's address is in the diagnostics, not in answers or /readyz", async () => {
  // A port that was listening a moment ago and is closed now: connections are refused.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  const dead = await startStack({
    waitReady: false,
    env: { GATEWAY_ADMIN_TOKEN: adminToken },
    config: { triton: { targets: [{ name: 'primary', grpc: `127.0.0.1:${port}` }] }, models: [{ name: 'qwen3', tritonModel: 'qwen3-vllm' }] },
  });
  try {
    const address = `127.0.0.1:${port}`;
    const diagnostics = async (): Promise<string> => {
      const r = await fetch(`${dead.url}/debug/diagnostics`, { headers: { authorization: `Bearer ${adminToken}` } });
      return JSON.stringify(await r.json());
    };
    await eventually(async () => (await diagnostics()).includes(`ECONNREFUSED ${address}`), 5_000, "the target's refused connection in the diagnostics");

    const strict = await fetch(`${dead.url}/readyz?strict=1`);
    const strictText = await strict.text();
    assert.equal(strict.status, 503);
    assert.ok(!strictText.includes(address) && !strictText.includes('ECONNREFUSED'), strictText);
    assert.ok(strictText.includes('model qwen3 unavailable'), strictText);

    const res = await complete(dead.url, { model: 'qwen3', prompt: 'hi', max_tokens: 2 });
    assert.equal(res.status, 503);
    assert.ok(!JSON.stringify(res.body).includes(address), JSON.stringify(res.body));
  } finally {
    await dead.close();
  }
});
