/**
 * A client that sends half its body and hangs up is one request the client cancelled: one 499
 * `client_cancelled` on its route. Node's parser also reports the early end as a parse error
 * (HPE_INVALID_EOF_STATE) on a socket that is still writable; answering that would count the same
 * request again, as a 400 `invalid_request` on no route.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => stack.close());

test('a client that hangs up halfway through its body is counted once, as cancelled', async () => {
  stack.sim.reset(); // the warm-up's requests
  const m0 = await scrape(`${stack.url}/metrics`);
  const { hostname, port } = new URL(stack.url);
  const body = JSON.stringify({ model: 'llama-3-8b', prompt: 'hello there', max_tokens: 3 });
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  await new Promise((r) => setTimeout(r, 100));
  socket.end();
  await new Promise<void>((resolve) => socket.once('close', () => resolve()).resume());

  const answered = async () => (await scrape(`${stack.url}/metrics`)).value('http_requests_total', { method: 'POST' }) - m0.value('http_requests_total', { method: 'POST' });
  await eventually(async () => (await answered()) >= 1, 3000, 'the request to be counted');
  const m1 = await scrape(`${stack.url}/metrics`);
  const delta = (name: string, labels: Record<string, string> = {}) => m1.value(name, labels) - m0.value(name, labels);
  assert.equal(delta('http_requests_total', { endpoint: '/v1/completions', status: '499' }), 1);
  assert.equal(delta('http_requests_total', { endpoint: 'unmatched' }), 0, 'not counted again as a request on no route');
  assert.equal(delta('errors_total', { error_type: 'client_cancelled' }), 1);
  assert.equal(delta('errors_total', { error_type: 'invalid_request' }), 0, 'a hang-up is not a malformed request');
  assert.equal(stack.sim.received().length, 0, 'nothing reached Triton');
});

test('a client that hangs up halfway through its headers is still counted, as a malformed request on no route', async () => {
  const m0 = await scrape(`${stack.url}/metrics`);
  const { hostname, port } = new URL(stack.url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write('POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Ty');
  await new Promise((r) => setTimeout(r, 100));
  socket.end();
  await new Promise<void>((resolve) => socket.once('close', () => resolve()).resume());
  await eventually(async () => (await scrape(`${stack.url}/metrics`)).value('http_requests_total', { endpoint: 'unmatched' }) > m0.value('http_requests_total', { endpoint: 'unmatched' }), 3000, 'the malformed request to be counted');
});
