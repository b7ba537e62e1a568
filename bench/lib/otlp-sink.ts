/**
 * A local OTLP/HTTP receiver for the gateway's spans: it answers every export with 200 and
 * counts what arrived, so "tracing on" really exports and the benchmark can show it did. The
 * count is a substring count (no JSON parsing), to keep this process's CPU for the driver.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';

export interface OtlpSink {
  endpoint: string;
  stats(): { exports: number; bytes: number; spans: number };
  close(): Promise<void>;
}

function countOccurrences(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  let exports = 0;
  let bytes = 0;
  let spans = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      exports += 1;
      bytes += body.length;
      if ((req.headers['content-type'] ?? '').includes('json')) {
        // `"spanId":` names each span once; a parent is `"parentSpanId":`, which does not match.
        spans += countOccurrences(body.toString('utf8'), '"spanId":');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    stats: () => ({ exports, bytes, spans }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
