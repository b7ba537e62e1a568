/**
 * HTTP/1.1 pipelining: a streamed request sent on one connection right behind a slower request
 * is answered after it, with every one of its tokens. Node gives the second response its socket
 * only once the first has finished; its frames wait until then instead of being dropped.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => stack.close());

function post(body: object): string {
  const json = JSON.stringify(body);
  return `POST /v1/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}

test('a streamed request pipelined behind a slower one gets all its tokens and its usage', async () => {
  // The first request waits 300 ms for its first token; the second streams meanwhile.
  stack.sim.setFault('qwen3-vllm', { kind: 'slow-first-token', ms: 300 });
  const socket = connect(Number(new URL(stack.url).port), '127.0.0.1');
  let raw = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (raw += d));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(
    post({ model: 'qwen3', prompt: 'first', max_tokens: 4 }) +
      post({ model: 'llama-3-8b', prompt: 'second, streamed', max_tokens: 8, stream: true, stream_options: { include_usage: true } }).replace('\r\n\r\n', '\r\nconnection: close\r\n\r\n'),
  );
  await closed;
  const second = raw.slice(raw.indexOf('HTTP/1.1 200', 10));
  assert.match(raw, /^HTTP\/1\.1 200/, 'the first answer comes first');
  assert.match(second, /^HTTP\/1\.1 200[\s\S]*text\/event-stream/);
  const events = [...second.matchAll(/data: (\{.*\})\n\n/g)].map((m) => JSON.parse(m[1]!));
  const usage = events.find((e) => e.usage)?.usage;
  assert.ok(usage, 'the usage chunk arrived');
  assert.equal(usage.completion_tokens, 8);
  assert.equal(events.filter((e) => e.choices.length > 0 && e.choices[0].text !== '').length, 8, 'one chunk per token');
  assert.match(second, /data: \[DONE\]\n\n/);
});

test('a pipelined request whose client leaves while it waits behind another is a 499 and its Triton call is cancelled', async () => {
  stack.sim.reset();
  // The first request hangs; the second, a long stream, waits behind it for the connection.
  stack.sim.setFault('qwen3-vllm', { kind: 'hang' });
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 200 });
  const socket = connect(Number(new URL(stack.url).port), '127.0.0.1');
  socket.on('error', () => undefined);
  const second = post({ model: 'llama-3-8b', prompt: 'queued', max_tokens: 200, stream: true }).replace('\r\n\r\n', '\r\nx-request-id: queued-and-left\r\n\r\n');
  socket.write(post({ model: 'qwen3', prompt: 'first', max_tokens: 4 }) + second);
  await eventually(() => stack.sim.received().filter((r) => r.model === 'llama-3-8b-trtllm' && r.outcome === 'running').length === 1, 5000, 'the queued request to reach Triton');
  socket.destroy();
  await eventually(() => stack.logs.find('request completed').some((l) => l.reqId === 'queued-and-left'), 5000, 'the queued request to be recorded');
  const line = stack.logs.find('request completed').find((l) => l.reqId === 'queued-and-left')!;
  assert.equal(line.status, 499);
  assert.equal(line.error_code, 'client_cancelled');
  await eventually(() => stack.sim.received().some((r) => r.model === 'llama-3-8b-trtllm' && r.outcome === 'cancelled'), 5000, 'its Triton call to be cancelled');
  stack.sim.clearFaults();
});
