/**
 * Plain HTTP calls to the gateway's OpenAI routes, for tests that inspect headers, statuses and
 * raw SSE frames (the SDK hides those).
 */
export interface CompletionResult {
  status: number;
  headers: Headers;
  body: any;
}

export async function complete(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<CompletionResult> {
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* SSE or text: kept raw */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export interface SseResult {
  status: number;
  headers: Headers;
  /** Each `data:` payload parsed (or the raw string for [DONE]), in order. */
  events: Array<{ event: string | undefined; data: any }>;
  raw: string;
  done: boolean;
}

export async function completeStream(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<SseResult> {
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const raw = await res.text();
  const events: SseResult['events'] = [];
  for (const block of raw.split('\n\n')) {
    if (block.trim().length === 0) continue;
    let event: string | undefined;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    events.push({ event, data: data === '[DONE]' ? data : safeJson(data) });
  }
  return { status: res.status, headers: res.headers, events, raw, done: raw.endsWith('data: [DONE]\n\n') };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
