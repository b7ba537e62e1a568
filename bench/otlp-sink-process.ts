/**
 * The benchmark's OTLP/HTTP receiver as a program of its own, so the spans the gateway exports
 * (about 1,000/s under load) cost this process's CPU, not the load generator's.
 * `lib/otlp-sink.ts` starts it; it can also run by hand:
 *
 *   npx tsx bench/otlp-sink-process.ts
 *
 * Listens on 127.0.0.1 (a free port), answers every export with 200 and counts what arrived;
 * `GET /stats` returns `{exports, bytes, spans}` as JSON. Spans are counted without decoding
 * the export (`lib/otlp-span-count.ts`, JSON or protobuf by content type), to keep the receiver
 * cheap on a 2-core machine. Prints one ready line to
 * stdout: `otlp-sink ready endpoint=<url> stats=<url>`. Stops on SIGTERM or SIGINT, and with
 * `--exit-with-stdin` (as `lib/otlp-sink.ts` runs it) also when its stdin closes, so a parent
 * that dies without stopping it does not leave it running.
 */
import { createServer } from 'node:http';
import { countJsonSpans, countProtobufSpans } from './lib/otlp-span-count.js';

let exports = 0;
let bytes = 0;
let spans = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ exports, bytes, spans }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    exports += 1;
    bytes += body.length;
    const type = req.headers['content-type'] ?? '';
    try {
      if (type.includes('json')) spans += countJsonSpans(body.toString('utf8'));
      else if (type.includes('protobuf')) spans += countProtobufSpans(body);
    } catch (err) {
      process.stderr.write(`otlp-sink: export not counted: ${(err as Error).message}\n`);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});

let stopping = false;
function shutdown(why: string): void {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`otlp-sink: ${why}, stopping (${exports} exports, ${spans} spans)\n`);
  server.closeAllConnections();
  server.close(() => process.exit(0));
  // An exporter that keeps reconnecting must not hold the exit up.
  setTimeout(() => process.exit(0), 2_000).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.on('error', (err) => {
  process.stderr.write(`otlp-sink: ${err.message}\n`);
  process.exit(1);
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const base = `http://127.0.0.1:${port}`;
  process.stdout.write(`otlp-sink ready endpoint=${base}/v1/traces stats=${base}/stats\n`);
  if (process.argv.includes('--exit-with-stdin')) {
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin closed'));
    process.stdin.resume();
  }
});
