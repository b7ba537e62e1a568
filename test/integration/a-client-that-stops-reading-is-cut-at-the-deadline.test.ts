/**
 * A streaming client that stops reading (its socket full, the connection left open) must not hold
 * its admission slot for ever: the relay waits for the socket to drain only until the request's
 * deadline, then cuts the connection, frees the slot and records the stream as the client's doing.
 * The client here is a raw TCP socket that sends one request and never reads; ~4 MB of SSE frames
 * fill loopback's socket buffers, so the request asks for 50,000 tokens from a zero-latency model.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({ config: { models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', maxTokens: 60_000 }] } });
});
after(async () => stack.close());

test('a stream whose client stops reading is cut at the request deadline and frees its slot', async () => {
  const { hostname, port } = new URL(stack.url);
  const body = JSON.stringify({ model: 'llama-3-8b', prompt: 'tell me everything', max_tokens: 50_000, stream: true });
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST /v1/completions HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\nx-request-timeout-ms: 5000\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.pause(); // never read: the gateway's writes back up until its socket is full
  try {
    // Seen from the gateway (a paused socket does not notice its connection being cut): the
    // request ends with its completion line and its slot is free, well before this test's limit.
    // 5 s leave a loaded machine time to fill the socket's buffers (~4 MB) before the deadline;
    // filled later, the deadline would find the relay reading Triton, not waiting on the client.
    await eventually(async () => stack.logs.find('request completed').length > 0, 20_000, 'the stalled stream ended');
    assert.equal(stack.logs.find('request completed')[0]!.error_code, 'request_timeout', JSON.stringify(stack.logs.find('request completed')[0]));
    await eventually(async () => (await scrape(`${stack.url}/metrics`)).value('active_requests') === 0, 3_000, 'the admission slot freed');
  } finally {
    socket.destroy();
  }
  const line = stack.logs.find('request completed').find((l) => l.error_code === 'request_timeout')!;
  assert.equal(line.stream_abort, 'client_disconnect', 'the client stalled, not Triton');
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(m.value('streams_aborted_total', { phase: 'client_disconnect' }), 1);
  assert.equal(m.value('streams_aborted_total', { phase: 'mid_stream' }), 0);
});
