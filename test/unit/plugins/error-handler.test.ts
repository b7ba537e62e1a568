/**
 * Node's client errors get the OpenAI envelope, written straight to the socket. The 400 and 431
 * cases go through a real server in malformed-http-gets-the-error-envelope.test.ts; the 408 one
 * would need Node's request timeout (5 minutes) to pass, so it is fed to the responder here.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { clientErrorResponder } from '../../../src/plugins/error-handler.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';

test('a request not received in time gets a 408 request_timeout envelope, and the connection closes', async () => {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  clientErrorResponder(createMetrics({ defaultMetrics: false, enabled: true }))(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket);
  await closed;
  const text = Buffer.concat(chunks).toString('utf8');
  assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(text, /\r\nconnection: close\r\n/);
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
  assert.equal(body.error.code, 'request_timeout');
});
