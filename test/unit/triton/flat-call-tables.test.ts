/**
 * grpc-js's and Node's per-connection Map and Sets of calls in flight are replaced by in-flight
 * tables, and real HTTP/2 sessions and a real gRPC channel to the simulator work on them as before.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startSimulator } from '../../../sim/index.js';
import { TritonClient } from '../../../src/triton/client.js';
import { flattenSessionTables, flattened, installFlatCallTables } from '../../../src/triton/flat-call-tables.js';

test('an HTTP/2 client session with flat tables serves concurrent streams and destroys open ones', async (t) => {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/hang') return;
    setTimeout(() => {
      stream.respond({ ':status': 200 });
      stream.end(`ok ${headers[':path']}`);
    }, 5);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.after(() => session.destroy());
  assert.deepEqual(flattenSessionTables(session), { streams: true, pendingStreams: true }, "this Node's session keeps its streams where the workaround looks");
  assert.deepEqual(flattenSessionTables(session), { streams: false, pendingStreams: false }, 'a second call changes nothing');
  const get = (path: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = session.request({ ':path': path });
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => resolve(body));
      req.on('error', reject);
      req.end();
    });
  const bodies = await Promise.all(Array.from({ length: 20 }, (_, i) => get(`/${i}`)));
  assert.deepEqual(bodies, Array.from({ length: 20 }, (_, i) => `ok /${i}`));
  const hanging = Array.from({ length: 3 }, () => session.request({ ':path': '/hang' }).end());
  const closed = hanging.map((req) => new Promise<void>((resolve) => req.on('close', () => resolve())));
  await new Promise((resolve) => setTimeout(resolve, 20));
  session.destroy();
  await Promise.all(closed);
  assert.ok(hanging.every((req) => req.destroyed), 'destroying the session destroyed every open stream');
});

test('with the workaround installed, grpc-js connections get the flat tables and calls work', async (t) => {
  const sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
  t.after(() => sim.stop());
  assert.equal(installFlatCallTables(), true, "grpc-js still makes its transports in Http2SubchannelConnector#createSession");
  assert.equal(installFlatCallTables(), true, 'installing twice is harmless');
  const before = flattened.transports;
  const client = new TritonClient({ target: sim.grpcAddress });
  t.after(() => client.close());
  const answers = await Promise.all(Array.from({ length: 8 }, () => client.serverReady()));
  assert.deepEqual(answers, Array(8).fill(true));
  assert.equal(flattened.transports, before + 1, 'one connection');
  assert.deepEqual(flattened.last, { activeCalls: true, streams: true, pendingStreams: true });
});
