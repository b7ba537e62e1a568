/**
 * A stream's headers keep proxies and caches from holding tokens back: nginx-style proxies
 * buffer a response unless told `X-Accel-Buffering: no`, and `no-transform` stops
 * intermediaries from recompressing (and so batching) the events. Chat and text completions
 * alike.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({
    config: { models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', chatTemplate: { file: 'examples/chat-templates/llama-3.jinja' } }] },
  });
});
after(async () => stack.close());

for (const [route, body] of [
  ['/v1/completions', { model: 'llama-3-8b', prompt: 'hello', max_tokens: 3, stream: true }],
  ['/v1/chat/completions', { model: 'llama-3-8b', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, stream: true }],
] as const) {
  test(`${route} streams with headers that turn proxy buffering off`, async () => {
    const res = await fetch(`${stack.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(res.headers.get('x-accel-buffering'), 'no');
    assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform');
    assert.ok((await res.text()).endsWith('data: [DONE]\n\n'));
  });
}
