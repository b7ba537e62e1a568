/**
 * A client that sends `Connection: close` (curl --no-keepalive, many proxies, HTTP/1.0 tools)
 * reads an SSE stream until the server closes the socket. The gateway must close it after
 * [DONE]; a forced `connection: keep-alive` header once left such clients hanging.
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

/** Sends one request on a raw socket; resolves with what was read, and whether the server closed the socket within `waitMs`. */
async function untilServerCloses(body: unknown, headers: string, waitMs: number): Promise<{ text: string; closed: boolean }> {
  const json = JSON.stringify(body);
  const { port } = new URL(stack.url);
  const socket = connect(Number(port), '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (s: string) => (text += s));
  socket.write(`POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n${headers}\r\n${json}`);
  const closed = await Promise.race([
    new Promise<boolean>((resolve) => socket.once('end', () => resolve(true))),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs)),
  ]);
  socket.destroy();
  return { text, closed };
}

const ask = { model: 'llama-3-8b', prompt: 'hello', max_tokens: 4 };

test('a streamed completion closes the connection after [DONE] when the client sent Connection: close', async () => {
  const { text, closed } = await untilServerCloses({ ...ask, stream: true }, 'Connection: close\r\n', 5_000);
  assert.ok(closed, 'the gateway kept the connection open');
  assert.match(text, /^HTTP\/1\.1 200/);
  assert.match(text, /\r\nconnection: close\r\n/i);
  assert.match(text, /data: \[DONE\]/);
});

test('without Connection: close the stream keeps the connection for the next request', async () => {
  const { text, closed } = await untilServerCloses({ ...ask, stream: true }, '', 500);
  assert.match(text, /data: \[DONE\]/, 'the stream was answered in full');
  assert.equal(closed, false);
});
