/**
 * Requests refused before any route runs still get the OpenAI error envelope, an x-request-id
 * and their count in http_requests_total: a malformed percent-encoding in the path and an
 * over-long path parameter (fastify's frameworkErrors), headers over Node's size limit and
 * malformed HTTP (Node's clientError). Sent on raw sockets: fetch would refuse to send most.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { scrape } from '../helpers/scrape.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => stack.close());

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `request` as is and reads until the server closes the connection. */
async function raw(request: string): Promise<RawAnswer> {
  const { port } = new URL(stack.url);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.on('close', () => resolve(received));
    // Oversized headers: the server may answer and reset before reading them all.
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err)));
    socket.setTimeout(5000, () => reject(new Error(`no close within 5 s; got: ${received}`)));
    socket.write(request);
  });
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

function assertEnvelope(answer: RawAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer));
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  assert.match(answer.headers['x-request-id'] ?? '', /^[A-Za-z0-9._:-]{1,128}$/, 'an x-request-id');
  const body = JSON.parse(answer.body) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type'], answer.body);
  assert.equal(body.error.code, code);
  assert.equal(body.error.type, 'invalid_request_error');
  assert.ok(!answer.body.includes('    at '), 'no stack');
}

async function unmatchedCount(status: string): Promise<number> {
  return (await scrape(`${stack.url}/metrics`)).value('http_requests_total', { endpoint: 'unmatched', status });
}

async function unmatchedErrors(code: string): Promise<number> {
  return (await scrape(`${stack.url}/metrics`)).value('errors_total', { endpoint: 'unmatched', error_type: code });
}

test('a malformed percent-encoding in the path gets a 400 envelope with the request id', async () => {
  const [before400, beforeErrors] = [await unmatchedCount('400'), await unmatchedErrors('invalid_request')];
  const answer = await raw('GET /v1/models/%E0%A4%A HTTP/1.1\r\nHost: x\r\nx-request-id: bad-url-1\r\nConnection: close\r\n\r\n');
  assertEnvelope(answer, 400, 'invalid_request');
  assert.equal(answer.headers['x-request-id'], 'bad-url-1', 'a well-formed incoming request id is kept');
  assert.equal(await unmatchedCount('400'), before400 + 1);
  assert.equal(await unmatchedErrors('invalid_request'), beforeErrors + 1);
});

test('an over-long path parameter gets a 400 envelope, before any guard', async () => {
  const answer = await raw(`POST /admin/models/${'m'.repeat(200)}/disable HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  assertEnvelope(answer, 400, 'invalid_request');
});

test('headers over the size limit get a 431 envelope and the connection is closed', async () => {
  const before431 = await unmatchedCount('431');
  const answer = await raw(`GET /livez HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assertEnvelope(answer, 431, 'request_header_fields_too_large');
  assert.equal(answer.headers.connection, 'close');
  assert.equal(await unmatchedCount('431'), before431 + 1);
});

test('malformed HTTP (a non-numeric Content-Length) gets a 400 envelope and the connection is closed', async () => {
  const before400 = await unmatchedCount('400');
  // No Connection: close, so only the handler closing the socket ends the read.
  const answer = await raw('POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}');
  assertEnvelope(answer, 400, 'invalid_request');
  assert.match(JSON.parse(answer.body).error.message, /not valid HTTP/);
  assert.equal(await unmatchedCount('400'), before400 + 1);
});
