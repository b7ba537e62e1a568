/**
 * Server-sent events framing for OpenAI-style streams: `data: <json>` per chunk, `data: [DONE]`
 * on success, and on a failure after the first byte an `error` event carrying the OpenAI error
 * object, with no [DONE] (the official SDKs raise it as an APIError).
 */
import type { GatewayError } from '../errors.js';
import type { FinishReason } from '../triton/types.js';

export const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // No `connection` header: Node keeps HTTP/1.1 connections alive by default and must be free to
  // honour a client's `Connection: close` (a forced keep-alive left such clients waiting for the
  // socket to close long after [DONE]).
  // Stops nginx-style proxies from buffering the stream.
  'x-accel-buffering': 'no',
} as const;

export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

const textMarker = '\u0000sse-text\u0000';

/**
 * Frames the chunks of one stream, which differ only in their text and finish reason: the JSON
 * around the text is rendered once per finish reason and only the text is escaped per token
 * (a full JSON.stringify per token was the largest JavaScript cost of relaying). The output is
 * byte for byte sseData(build(text, finish)); an empty text takes that path, since some shapes
 * drop the field when there is no text.
 */
export function textChunkFramer(build: (text: string, finish: FinishReason | null) => unknown): (text: string, finish: FinishReason | null) => string {
  const templates = new Map<FinishReason | null, readonly [string, string] | null>();
  return (text, finish) => {
    let template = templates.get(finish);
    if (template === undefined) {
      const whole = sseData(build(textMarker, finish));
      const quoted = JSON.stringify(textMarker);
      const at = whole.indexOf(quoted);
      template = at === -1 || whole.includes(quoted, at + 1) ? null : ([whole.slice(0, at), whole.slice(at + quoted.length)] as const);
      templates.set(finish, template);
    }
    return template === null || text.length === 0 ? sseData(build(text, finish)) : template[0] + JSON.stringify(text) + template[1];
  };
}

export const sseDone = 'data: [DONE]\n\n';

export function sseError(error: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify(error.toBody())}\n\n`;
}
