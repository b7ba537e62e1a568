/**
 * A client that sends its request too slowly (headers in, the body trickling or never coming)
 * is answered 408 in the OpenAI envelope and its connection closed once server.requestTimeoutMs
 * has passed, whether or not it is authenticated: fastify's default would have let it hold the
 * socket and its body buffer for ever.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({ config: { server: { requestTimeoutMs: 500 }, auth: { apiKeys: ['slow-client-test-key-0123456789'] } } });
});
after(async () => stack.close());

/** Sends the headers and `bodyPart` of a request that announces a larger body; resolves with all the server sent before closing. */
function sendPartial(bodyPart: string, authorized: boolean): Promise<{ text: string; ms: number }> {
  const { port } = new URL(stack.url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.on('close', () => resolve({ text: received, ms: performance.now() - started }));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    socket.setTimeout(10_000, () => reject(new Error(`still open after 10 s; got: ${received}`)));
    const auth = authorized ? 'authorization: Bearer slow-client-test-key-0123456789\r\n' : '';
    socket.write(`POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${auth}content-length: 100000\r\n\r\n${bodyPart}`);
  });
}

test('a body that never arrives in full is a 408 and a closed connection', async () => {
  const { text } = await sendPartial('{"model": "llama-3-8b", "prompt": "', true);
  assert.match(text, /^HTTP\/1\.1 408 /, text);
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string; type: string } };
  assert.equal(body.error.code, 'request_timeout');
  assert.equal(body.error.type, 'invalid_request_error');
});

test('a client without an API key is answered 401 at once, and its unfinished body does not keep the connection', async () => {
  // Resolving at all is the check: the socket's 10 s timeout rejects while the connection is held.
  const { text } = await sendPartial('{"model": "llama-3-8b", "prompt": "', false);
  assert.match(text, /^HTTP\/1\.1 401 /, text);
});

test('a body too slow is recorded once, as the 408 its client got, on its route', async () => {
  const before0 = await scrape(`${stack.url}/metrics`);
  const { text } = await sendPartial('{"model": "llama-3-8b", "prompt": "', true);
  assert.match(text, /^HTTP\/1\.1 408 /, text);
  let after0 = await scrape(`${stack.url}/metrics`);
  await eventually(async () => {
    after0 = await scrape(`${stack.url}/metrics`);
    return after0.value('http_requests_total') > before0.value('http_requests_total');
  }, 3000, 'the request to be recorded');
  const delta = (name: string, labels: Record<string, string> = {}): number => after0.value(name, labels) - before0.value(name, labels);
  assert.equal(delta('http_requests_total'), 1, 'one request, one count');
  assert.equal(delta('http_requests_total', { endpoint: '/v1/completions', status: '408' }), 1);
  assert.equal(delta('errors_total', { endpoint: '/v1/completions', error_type: 'request_timeout' }), 1);
  assert.equal(delta('errors_total'), 1);
});
