/**
 * SseFrameWriter over a real HTTP server and a raw TCP client: one HTTP/1.1 chunk per frame with
 * byte-exact sizes, plain frames for an HTTP/1.0 client, and backpressure from a reader that
 * stops reading (nothing buffered without bound, nothing lost when it reads again).
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { SseFrameWriter } from '../../../src/routes/sse-writer.js';

/** Node 20 has no Promise.withResolvers. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function serve(handler: (res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    handler(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function request(port: number, version: '1.0' | '1.1'): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.write(`POST /v1/completions HTTP/${version}\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  return socket;
}

async function readAll(socket: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of socket) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Splits a chunked body into its chunks (as bytes), checking the framing as it goes. */
function dechunk(body: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    assert.ok(lineEnd > at, `no chunk size at byte ${at}`);
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    assert.ok(Number.isInteger(size), 'chunk size is not hex');
    const start = lineEnd + 2;
    if (size === 0) {
      assert.equal(body.subarray(start).toString('latin1'), '\r\n', 'bytes after the last chunk');
      return chunks;
    }
    chunks.push(body.subarray(start, start + size));
    assert.equal(body.subarray(start + size, start + size + 2).toString('latin1'), '\r\n', 'chunk not followed by CRLF');
    at = start + size + 2;
  }
}

function splitResponse(raw: Buffer): { head: string; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  return { head: raw.subarray(0, end).toString('latin1'), body: raw.subarray(end + 4) };
}

test('each frame is one chunk whose size counts bytes, not characters', async () => {
  const frames = ['data: {"text":"hello"}\n\n', 'data: {"text":"héllo wörld 🌍"}\n\n', 'data: {"text":"日本語"}\n\n'];
  const { server, port } = await serve((res) => {
    const out = new SseFrameWriter(res);
    for (const frame of frames) assert.equal(out.write(frame), undefined);
    out.end('data: [DONE]\n\n');
  });
  try {
    const { head, body } = splitResponse(await readAll(request(port, '1.1')));
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /transfer-encoding: chunked/i);
    const chunks = dechunk(body).map((c) => c.toString('utf8'));
    assert.deepEqual(chunks, [...frames, 'data: [DONE]\n\n']);
  } finally {
    server.close();
  }
});

test('an HTTP/1.0 client gets the frames without chunk framing', async () => {
  const frames = ['data: {"text":"a"}\n\n', 'data: {"text":"ü"}\n\n'];
  const { server, port } = await serve((res) => {
    const out = new SseFrameWriter(res);
    for (const frame of frames) void out.write(frame);
    out.end('data: [DONE]\n\n');
  });
  try {
    const { head, body } = splitResponse(await readAll(request(port, '1.0')));
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.equal(body.toString('utf8'), `${frames.join('')}data: [DONE]\n\n`);
  } finally {
    server.close();
  }
});

test('a reader that stops reading holds the writer back until it reads again, and loses nothing', async () => {
  const frame = `data: ${'x'.repeat(64 * 1024)}\n\n`;
  let written = 0;
  let waited: Promise<void> | undefined;
  let drainedAt: number | undefined;
  const ready = deferred<void>();
  const { server, port } = await serve((res) => {
    const out = new SseFrameWriter(res);
    // Bounded: loopback buffers hold a few MB, far less than 2,000 frames of 64 KiB.
    while (waited === undefined && written < 2_000) {
      waited = out.write(frame);
      written++;
    }
    ready.resolve();
    void waited?.then(() => {
      drainedAt = performance.now();
      out.end('data: [DONE]\n\n');
    });
  });
  try {
    const socket = request(port, '1.1');
    socket.pause();
    await ready.promise;
    assert.ok(waited, `2,000 frames of 64 KiB were taken without backpressure`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(drainedAt, undefined, 'the write resolved while the client was not reading');
    const resumedAt = performance.now();
    const { body } = splitResponse(await readAll(socket));
    assert.ok(drainedAt !== undefined && drainedAt >= resumedAt);
    const chunks = dechunk(body);
    assert.equal(chunks.length, written + 1);
    assert.ok(chunks.slice(0, written).every((c) => c.toString('latin1') === frame), 'a frame arrived damaged');
  } finally {
    server.close();
  }
});

test('a client that disconnects while the writer waits releases it and reads as closed', async () => {
  const frame = `data: ${'y'.repeat(64 * 1024)}\n\n`;
  const released = deferred<SseFrameWriter>();
  const waiting = deferred<void>();
  const { server, port } = await serve((res) => {
    const out = new SseFrameWriter(res);
    let waited: Promise<void> | undefined;
    for (let i = 0; waited === undefined && i < 2_000; i++) waited = out.write(frame);
    assert.ok(waited, 'never backpressured');
    waiting.resolve();
    void waited.then(() => released.resolve(out));
  });
  try {
    const socket = request(port, '1.1');
    socket.pause();
    await waiting.promise;
    socket.destroy();
    const out = await released.promise;
    assert.equal(out.closed, true);
    assert.equal(out.write('data: late\n\n'), undefined);
  } finally {
    server.close();
  }
});

test('a response pipelined behind another keeps every frame, in order, written before and after it gets the socket', async () => {
  const firstDone = deferred<void>();
  let first: ServerResponse | undefined;
  const server = createServer((req, res) => {
    req.resume();
    if (req.url === '/first') {
      first = res;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('still working');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const out = new SseFrameWriter(res);
    assert.equal(res.socket, null, 'the second response waits for the first to finish');
    out.write('data: {"text":"a"}\n\n');
    out.write('data: {"text":"b"}\n\n');
    res.once('socket', () => {
      // Attached: frames now go to the socket itself, after the ones held until now.
      setImmediate(() => {
        out.write('data: {"text":"c"}\n\n');
        out.end('data: [DONE]\n\n');
      });
    });
    first!.end();
    firstDone.resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const socket = connect(port, '127.0.0.1');
    socket.write(
      'GET /first HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n' +
        'POST /second HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n',
    );
    const raw = await readAll(socket);
    await firstDone.promise;
    const second = raw.subarray(raw.indexOf('HTTP/1.1 200', 10));
    const { head, body } = splitResponse(second);
    assert.match(head, /transfer-encoding: chunked/i);
    assert.deepEqual(
      dechunk(body).map((c) => c.toString('utf8')),
      ['data: {"text":"a"}\n\n', 'data: {"text":"b"}\n\n', 'data: {"text":"c"}\n\n', 'data: [DONE]\n\n'],
    );
  } finally {
    server.close();
  }
});
