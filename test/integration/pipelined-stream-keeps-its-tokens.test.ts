/**
 * HTTP/1.1 pipelining: a streamed request sent on one connection right behind a slower request
 * is answered after it, with every one of its tokens. Node gives the second response its socket
 * only once the first has finished; its frames wait until then instead of being dropped.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

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
  const text = events.flatMap((e) => e.choices.map((c: { text: string }) => c.text)).join('');
  const usage = events.find((e) => e.usage)?.usage;
  assert.ok(usage, 'the usage chunk arrived');
  assert.equal(usage.completion_tokens, 8);
  assert.ok(text.trim().split(/\s+/).length >= 1, `the tokens arrived: ${JSON.stringify(text)}`);
  assert.equal(events.filter((e) => e.choices.length > 0 && e.choices[0].text !== '').length, 8, 'one chunk per token');
  assert.match(second, /data: \[DONE\]\n\n/);
});
