/**
 * Server-sent events framing for OpenAI-style streams: `data: <json>` per chunk, `data: [DONE]`
 * on success, and on a failure after the first byte an `error` event carrying the OpenAI error
 * object, with no [DONE] (the official SDKs raise it as an APIError).
 */
import type { GatewayError } from '../errors.js';

export const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Stops nginx-style proxies from buffering the stream.
  'x-accel-buffering': 'no',
} as const;

export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export const sseDone = 'data: [DONE]\n\n';

export function sseError(error: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify(error.toBody())}\n\n`;
}
