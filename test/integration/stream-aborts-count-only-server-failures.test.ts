/**
 * streams_aborted_total{phase="before_first_byte"} feeds StreamAbortsHigh: it counts streams the
 * gateway or Triton broke (5xx), not streamed requests refused for the client's own mistake (4xx:
 * token budget, context length, a sampling value the backend refuses), which one misbehaving client could
 * otherwise turn into a page.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { scrape } from '../helpers/scrape.js';
import { startStack, type Stack } from '../helpers/stack.js';

const tritonModel = 'llama-3-8b-trtllm';
let stack: Stack;

before(async () => {
  stack = await startStack({
    config: {
      models: [
        {
          name: 'llama-3-8b',
          tritonModel,
          maxTokens: 64,
          tokenBudgetAction: 'reject',
          chatTemplate: { inline: '{% for m in messages %}{{ m.content }}{% endfor %}' },
        },
      ],
    },
  });
});
after(async () => stack.close());
afterEach(() => stack.sim.clearFaults());

async function beforeFirstByte(): Promise<number> {
  return (await scrape(`${stack.url}/metrics`)).value('streams_aborted_total', { model_name: 'llama-3-8b', phase: 'before_first_byte' });
}

async function stream(path: string, body: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

const completion = { model: 'llama-3-8b', prompt: 'hi', max_tokens: 4 };
const chat = { model: 'llama-3-8b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 };

test('streamed requests refused with a 400 do not count as aborted streams', async (t) => {
  const start = await beforeFirstByte();

  await t.test('over the token budget (completions and chat)', async () => {
    const a = await stream('/v1/completions', { ...completion, max_tokens: 1000 });
    assert.equal(a.status, 400, JSON.stringify(a.body));
    assert.equal(a.body.error.param, 'max_tokens');
    const b = await stream('/v1/chat/completions', { ...chat, max_tokens: 1000 });
    assert.equal(b.status, 400, JSON.stringify(b.body));
    assert.equal(b.body.error.param, 'max_tokens');
  });

  await t.test('the backend refuses a sampling value', async () => {
    stack.sim.setFault(tritonModel, { kind: 'error', code: 'INTERNAL', message: 'Error generating stream: top_p must be in (0, 1], got 1.5.', afterTokens: 0 });
    const res = await stream('/v1/completions', completion);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'invalid_request');
  });

  await t.test('Triton says the prompt is over the context length', async () => {
    stack.sim.setFault(tritonModel, { kind: 'error', code: 'INVALID_ARGUMENT', message: 'prompt length (9000) exceeds maximum input length (8192)', afterTokens: 0 });
    const res = await stream('/v1/chat/completions', chat);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'context_length_exceeded');
  });

  assert.equal(await beforeFirstByte(), start, 'no before_first_byte abort for a client error');
});

test('an upstream failure before the first byte still counts, once per request', async () => {
  const start = await beforeFirstByte();
  stack.sim.setFault(tritonModel, { kind: 'error', code: 'INTERNAL', message: 'engine exploded', afterTokens: 0 });
  const res = await stream('/v1/completions', completion);
  assert.ok(res.status >= 500, `${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(await beforeFirstByte(), start + 1);
  const line = stack.logs.find('request completed').at(-1)!;
  assert.equal(line.stream_abort, 'before_first_byte');
});

test('a streamed request that succeeds counts nothing', async () => {
  const start = await beforeFirstByte();
  const res = await stream('/v1/chat/completions', chat);
  assert.equal(res.status, 200);
  assert.match(res.body, /data: \[DONE\]/);
  assert.equal(await beforeFirstByte(), start);
});
