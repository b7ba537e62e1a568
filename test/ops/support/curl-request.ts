/**
 * A runbook's curl command turned into the request it sends, with the runbook's shell variables
 * ($MODEL, $USER, $GATEWAY_ADMIN_TOKEN, ...) replaced by test values, so the contract test can
 * send it to a real gateway. A variable without a value is an error: the runbook uses a name the
 * shell preamble of runbooks/README.md does not define, or the test must learn it.
 */
import { shellWords, type CurlCall } from '../../helpers/runbook-endpoints.js';

export interface CurlRequest {
  method: string;
  /** Concrete path, variables filled in. */
  url: string;
  headers: Record<string, string>;
  body?: string;
}

const BODY_FLAGS = new Set(['-d', '--data', '--data-raw', '--data-binary', '--json']);

export function expand(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_all, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no test value for $${name} in: ${text}`);
    return value;
  });
}

export function curlRequest(call: CurlCall, values: Readonly<Record<string, string>>): CurlRequest {
  const words = shellWords(call.command);
  let body: string | undefined;
  for (let i = 0; i < words.length; i++) if (BODY_FLAGS.has(words[i]!)) body = words[i + 1];
  const headers: Record<string, string> = {};
  for (const header of call.headers) {
    const colon = header.indexOf(':');
    headers[header.slice(0, colon).trim().toLowerCase()] = expand(header.slice(colon + 1).trim(), values);
  }
  const url = call.path.split('/').map((s) => (s.startsWith(':') ? encodeURIComponent(expand(`$${s.slice(1)}`, values)) : s)).join('/');
  return { method: call.method, url, headers, ...(body !== undefined ? { body: expand(body, values) } : {}) };
}
