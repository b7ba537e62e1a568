/**
 * Child process of test/unit/triton/lean-async-resource-bind.test.ts: sequential node:http2
 * requests on loopback, each with a caller's object graph hanging off its stream (as grpc-js
 * and the gateway hang theirs), run under `--trace-gc-nvp`. Prints `measure` before the
 * measured requests and `done <count>` after them; LEAN=1 installs the lean bind first.
 */
import { once } from 'node:events';
import { connect, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { installLeanAsyncResourceBind } from '../../src/triton/lean-async-resource-bind.js';

if (process.env.LEAN === '1') installLeanAsyncResourceBind();
const count = Number(process.env.REQUESTS ?? 2000);

const server = createServer((_req, res) => res.end('x'.repeat(64)));
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

function request(i: number): Promise<number> {
  // ~3 KB of the caller's own objects, reachable only through the stream's listeners.
  const callerState = Array.from({ length: 60 }, (_, k) => ({ request: i, k, label: `part ${k}` }));
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': `/r/${i}` });
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.on('error', reject);
    stream.on('close', () => resolve(bytes + callerState[0]!.k));
    stream.end();
  });
}

for (let i = 0; i < 300; i++) await request(i);
process.stdout.write('measure\n');
for (let i = 0; i < count; i++) await request(i);
process.stdout.write(`done ${count}\n`);
session.close();
server.close();
