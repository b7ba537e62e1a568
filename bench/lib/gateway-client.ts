/**
 * The load generator's side of the gateway: POST /v1/completions over keep-alive node:http
 * connections (no extra dependency, and cheaper per request than fetch), non-streamed or as
 * SSE with per-token arrival times.
 */
import { Agent, request } from 'node:http';
import type { StreamTimings } from './stream-timings.js';

export interface CompletionClient {
  /** One non-streamed completion; rejects unless the answer is a 200 with a body. */
  complete(index: number): Promise<void>;
  /** One streamed completion scheduled at `scheduledAt`; token arrival times go to `timings`. */
  stream(index: number, scheduledAt: number, timings: StreamTimings, maxTokens?: number): Promise<void>;
  close(): void;
}

export const promptCount = 50;

/** Prompts vary (as real traffic does) but repeat, so both paths see the same set. */
export function benchPrompt(index: number): string {
  return `Explain request ${index % promptCount} of the benchmark in one line`;
}

export function completionClient(baseUrl: string, model: string, opts: { maxTokens: number; streamTokens: number; maxSockets?: number }): CompletionClient {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 2048, maxFreeSockets: opts.maxSockets ?? 2048 });
  const bodies = Array.from({ length: promptCount }, (_, i) => JSON.stringify({ model, prompt: benchPrompt(i), max_tokens: opts.maxTokens }));
  const streamBodies = new Map<number, string[]>();
  const streamBody = (index: number, maxTokens: number): string => {
    let bodies = streamBodies.get(maxTokens);
    if (!bodies) {
      bodies = Array.from({ length: promptCount }, (_, i) => JSON.stringify({ model, prompt: benchPrompt(i), max_tokens: maxTokens, stream: true }));
      streamBodies.set(maxTokens, bodies);
    }
    return bodies[index % promptCount]!;
  };

  function post(body: string, onResponse: (status: number, res: import('node:http').IncomingMessage, done: (err?: Error) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: '/v1/completions',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => onResponse(res.statusCode ?? 0, res, done),
      );
      req.on('error', (err) => done(err));
      req.end(body);
    });
  }

  return {
    complete(index) {
      return post(bodies[index % promptCount]!, (status, res, done) => {
        let size = 0;
        let head = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => {
          size += s.length;
          if (head.length < 300) head += s;
        });
        res.on('end', () => done(status === 200 && size > 0 ? undefined : new Error(`HTTP ${status}: ${head.slice(0, 200)}`)));
        res.on('error', (err) => done(err));
      });
    },
    stream(index, scheduledAt, timings, maxTokens = opts.streamTokens) {
      const handle = timings.begin(scheduledAt);
      return post(streamBody(index, maxTokens), (status, res, done) => {
        if (status !== 200) {
          handle.close();
          res.resume();
          done(new Error(`HTTP ${status}`));
          return;
        }
        let buffer = '';
        let sawDone = false;
        res.setEncoding('utf8');
        res.on('data', (s: string) => {
          const at = performance.now();
          buffer += s;
          // SSE events end with a blank line; an event may be split over chunks.
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (event === 'data: [DONE]') sawDone = true;
            // A content chunk with text is one relayed token; the closing chunk has "text":"".
            else if (event.startsWith('data: {') && !event.includes('"text":""')) handle.token(at);
          }
        });
        res.on('end', () => {
          handle.close();
          done(sawDone ? undefined : new Error('stream ended without [DONE]'));
        });
        res.on('error', (err) => {
          handle.close();
          done(err);
        });
      });
    },
    close() {
      agent.destroy();
    },
  };
}
