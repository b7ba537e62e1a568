/**
 * The array tables that replace grpc-js's and Node's per-connection Map and Sets of calls in
 * flight behave as those did for every use Node and grpc-js make of them, on real HTTP/2
 * sessions and a real gRPC channel to the simulator.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startSimulator } from '../../../sim/index.js';
import { TritonClient } from '../../../src/triton/client.js';
import { CallList, StreamTable, flattenSessionTables, flattened, installFlatCallTables } from '../../../src/triton/flat-call-tables.js';

test('CallList does what a Set does for add, has, delete, size and iteration', () => {
  const list = new CallList<string>();
  const set = new Set<string>();
  const ops: Array<['add' | 'delete', string]> = [['add', 'a'], ['add', 'b'], ['add', 'a'], ['add', 'c'], ['delete', 'a'], ['delete', 'x'], ['add', 'd'], ['delete', 'c']];
  for (const [op, value] of ops) {
    if (op === 'add') {
      assert.equal(list.add(value), list);
      set.add(value);
    } else {
      assert.equal(list.delete(value), set.delete(value), `delete ${value}`);
    }
    assert.equal(list.size, set.size);
    assert.deepEqual([...list].sort(), [...set].sort());
    for (const v of ['a', 'b', 'c', 'd', 'x']) assert.equal(list.has(v), set.has(v));
  }
});

test('every entry is visited even when the callback deletes entries, as destroying streams does', () => {
  const list = new CallList<number>();
  const table = new StreamTable<number, string>();
  for (let i = 1; i <= 5; i++) {
    list.add(i);
    table.set(i * 2 + 1, `stream ${i}`);
  }
  const seen: number[] = [];
  list.forEach((v) => {
    seen.push(v);
    list.delete(v);
  });
  assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5]);
  assert.equal(list.size, 0);
  const streams: string[] = [];
  table.forEach((value, key) => {
    streams.push(value);
    table.delete(key);
  });
  assert.equal(streams.length, 5);
  assert.equal(table.size, 0);
  for (const v of [7, 8, 9]) list.add(v);
  for (const v of list) list.delete(v);
  assert.equal(list.size, 0, 'for...of too');
});

test('StreamTable does what a Map does for get, set, has, delete and size', () => {
  const table = new StreamTable<number, string>();
  const map = new Map<number, string>();
  for (const [key, value] of [[1, 'a'], [3, 'b'], [5, 'c'], [3, 'b2']] as const) {
    assert.equal(table.set(key, value), table);
    map.set(key, value);
  }
  for (const key of [5, 9, 1]) assert.equal(table.delete(key), map.delete(key));
  table.set(7, 'd');
  map.set(7, 'd');
  for (const key of [1, 3, 5, 7, 9]) {
    assert.equal(table.get(key), map.get(key));
    assert.equal(table.has(key), map.has(key));
  }
  assert.equal(table.size, map.size);
  assert.deepEqual([...table.entries()].sort(), [...map.entries()].sort());
  assert.deepEqual([...table.keys()].sort(), [...map.keys()].sort());
  assert.deepEqual([...table.values()].sort(), [...map.values()].sort());
});

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
