/**
 * A real process with a 1 s drain and requests far longer than it: at the drain's deadline the
 * stream gets an SSE `error` event `shutting_down` (no [DONE]) and the non-streamed request a
 * 503 `shutting_down`; each still gets its completion log line and its span (exported over OTLP
 * before the exit); the process exits 0 within the drain plus a small margin, not on
 * close-with-grace's timer with exit 1. In process, the same for a request still queued for an
 * admission slot (src/shutdown.ts directly).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { drainAndClose } from '../../src/shutdown.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { eventually, startStack } from '../helpers/stack.js';

interface LogLine {
  msg: string;
  stream?: boolean;
  status?: number;
  error_code?: string | null;
  stream_abort?: string | null;
}

test('requests still running when the drain time is over are ended with shutting_down, recorded, and the process exits 0 on time', async (t) => {
  const sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
  t.after(() => sim.stop());
  const traceBodies: Buffer[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      traceBodies.push(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => receiver.close());
  const addr = receiver.address();
  const tracesUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/v1/traces`;

  const drainSeconds = 1;
  const gw = await startGatewayProcess({
    simGrpc: sim.grpcAddress,
    drainSeconds,
    preload: ['./src/telemetry/tracing.ts'],
    env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: tracesUrl },
  });
  t.after(() => gw.kill());
  // 100 tokens at 100 ms each: ten times the drain.
  sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 100 });
  const post = (body: Record<string, unknown>): Promise<Response> =>
    fetch(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3-8b', max_tokens: 100, ...body }) });

  const streamed = await post({ prompt: 'a long stream', stream: true });
  assert.equal(streamed.status, 200);
  const reader = streamed.body!.getReader();
  let sse = new TextDecoder().decode((await reader.read()).value);
  const unary = post({ prompt: 'a long answer' });
  await new Promise((resolve) => setTimeout(resolve, 300));

  gw.child.kill('SIGTERM');
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    sse += new TextDecoder().decode(value);
  }
  const unaryRes = await unary;
  const code = await gw.exited;

  // Exit 0 and no "killed by timeout" (below): the stop ended the requests itself, on time.
  assert.equal(code, 0, gw.output());
  assert.ok(!sse.includes('[DONE]'), 'a stream ended by the shutdown has no [DONE]');
  const errorEvent = /event: error\ndata: (.+)\n\n$/.exec(sse);
  assert.ok(errorEvent, `the stream ends with an SSE error event: ${sse.slice(-300)}`);
  const streamError = (JSON.parse(errorEvent[1]!) as { error: Record<string, unknown> }).error;
  assert.deepEqual(Object.keys(streamError).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(streamError.code, 'shutting_down');
  assert.equal(streamError.type, 'server_error');

  assert.equal(unaryRes.status, 503);
  assert.equal(((await unaryRes.json()) as { error: { code: string } }).error.code, 'shutting_down');

  const lines = gw
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
  const completed = lines.filter((l) => l.msg === 'request completed');
  const streamLine = completed.find((l) => l.stream === true);
  assert.ok(streamLine, `a completion line for the stream:\n${gw.output()}`);
  assert.equal(streamLine.error_code, 'shutting_down');
  assert.equal(streamLine.stream_abort, 'mid_stream');
  const unaryLine = completed.find((l) => l.stream === false && l.status === 503);
  assert.ok(unaryLine, `a completion line for the non-streamed request:\n${gw.output()}`);
  assert.equal(unaryLine.error_code, 'shutting_down');
  assert.ok(lines.some((l) => l.msg === 'drain time over; ending the requests still in flight'));
  assert.ok(lines.some((l) => l.msg === 'stopped'), 'the shutdown ran to its end');
  assert.ok(!gw.output().includes('killed by timeout'));
  // Protobuf keeps strings as they are: the request spans, ended with their error, were exported.
  assert.ok(Buffer.concat(traceBodies).includes('shutting_down'), 'the spans of the ended requests were flushed before the exit');
});

test('a request queued for an admission slot at the drain deadline gets a 503 shutting_down and its completion line', async (t) => {
  const stack = await startStack({ config: { admission: { maxInFlight: 1, maxQueue: 4, queueTimeoutMs: 30_000 } } });
  t.after(() => stack.close());
  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 100 });
  const post = (body: Record<string, unknown>): Promise<Response> =>
    fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3-8b', max_tokens: 100, ...body }) });

  const holding = await post({ prompt: 'holds the only slot', stream: true });
  const queued = post({ prompt: 'waits for it', stream: true });
  await eventually(() => stack.app.services.admission.state.queued === 1, 3000, 'the second request to queue');

  await drainAndClose(stack.app, 300);

  const holdingBody = await holding.text();
  assert.match(holdingBody, /event: error\ndata: .*"code":"shutting_down"/);
  const queuedRes = await queued;
  assert.equal(queuedRes.status, 503, 'a stream not started yet is answered with a plain 503');
  assert.equal(((await queuedRes.json()) as { error: { code: string } }).error.code, 'shutting_down');
  const completed = stack.logs.find('request completed');
  assert.equal(completed.length, 2, stack.logs.text());
  assert.deepEqual(completed.map((l) => [l.status, l.error_code]).sort(), [[200, 'shutting_down'], [503, 'shutting_down']]);
  assert.equal(stack.logs.find('request failed').length, 0, 'a stop is not logged as a failure');
});

test('a non-streamed request ended at the drain deadline gets 503 shutting_down, not an answer from the degraded cache', async (t) => {
  const stack = await startStack({ config: { resilience: { cache: { enabled: true, maxEntries: 10, ttlMs: 60_000 } } } });
  t.after(() => stack.close());
  const body = JSON.stringify({ model: 'llama-3-8b', prompt: 'cached before the stop', max_tokens: 4, temperature: 0 });
  const post = (): Promise<Response> => fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal((await post()).status, 200, 'the answer the cache keeps');

  stack.sim.setFault('llama-3-8b-trtllm', { kind: 'slow-tokens', msPerToken: 500 });
  const inFlight = post();
  await eventually(() => stack.app.services.active.size === 1, 3000, 'the request to reach Triton');
  await drainAndClose(stack.app, 200);

  const res = await inFlight;
  assert.equal(res.headers.get('x-degraded'), null, 'a stop is not an upstream failure');
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'shutting_down');
});

test('a stream whose client stopped reading, cut at the drain deadline, is recorded as ended by the shutdown, not as its client leaving', async (t) => {
  const stack = await startStack({ config: { models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', maxTokens: 60_000 }] } });
  let drained = false;
  t.after(async () => {
    if (!drained) await stack.app.close();
    await stack.sim.stop();
  });
  const { hostname, port } = new URL(stack.url);
  const body = JSON.stringify({ model: 'llama-3-8b', prompt: 'tell me everything', max_tokens: 50_000, stream: true });
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  t.after(() => socket.destroy());
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(`POST /v1/completions HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  // Never read: the socket fills and the relay waits for it to drain.
  socket.pause();
  await eventually(() => stack.app.services.active.size === 1, 3000, 'the stream to be admitted');
  // Long enough for the tokens to fill the socket's buffers, so the relay waits for a drain.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  drained = true;
  await drainAndClose(stack.app, 300);
  await eventually(() => stack.logs.find('request completed').length === 1, 3000, 'its completion line');
  const line = stack.logs.find('request completed')[0]!;
  assert.equal(line.error_code, 'shutting_down');
  assert.equal(line.stream_abort, 'mid_stream');
});
