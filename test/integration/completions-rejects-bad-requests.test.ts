/**
 * Every way a completions request can be wrong gets an OpenAI-style error with the right status
 * and the field named — never a stack trace, never a 200.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from '../helpers/stack.js';

const apiKey = 'test-key-0123456789abcdef';
let stack: Stack;

before(async () => {
  stack = await startStack({
    config: {
      server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 4096, maxPromptChars: 1000 },
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm' },
        { name: 'strict', tritonModel: 'qwen3-vllm', maxTokens: 50, tokenBudgetAction: 'reject' },
      ],
    },
    env: { GATEWAY_API_KEYS: apiKey },
  });
});
after(async () => stack.close());

async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${stack.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* asserted below */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

function assertError(res: { status: number; body: any }, status: number, param: string | null, message?: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(typeof res.body.error?.message, 'string');
  assert.equal(typeof res.body.error?.type, 'string');
  assert.equal(typeof res.body.error?.code, 'string');
  assert.equal(res.body.error.param, param);
  assert.ok(!/\n\s+at /.test(JSON.stringify(res.body)), 'no stack trace');
  if (message) assert.match(res.body.error.message, message);
}

const valid = { model: 'llama-3-8b', prompt: 'hi', max_tokens: 2 };

const cases: Array<[string, unknown, number, string | null, RegExp?]> = [
  ['missing model', { prompt: 'hi' }, 400, 'model'],
  ['missing prompt', { model: 'llama-3-8b' }, 400, 'prompt'],
  ['temperature above 2', { ...valid, temperature: 2.5 }, 400, 'temperature'],
  ['negative temperature', { ...valid, temperature: -0.1 }, 400, 'temperature'],
  ['top_p of 0', { ...valid, top_p: 0 }, 400, 'top_p'],
  ['max_tokens of 0', { ...valid, max_tokens: 0 }, 400, 'max_tokens'],
  ['max_tokens not an integer', { ...valid, max_tokens: 1.5 }, 400, 'max_tokens'],
  ['presence_penalty out of range', { ...valid, presence_penalty: 3 }, 400, 'presence_penalty'],
  ['frequency_penalty out of range', { ...valid, frequency_penalty: -3 }, 400, 'frequency_penalty'],
  ['five stop sequences', { ...valid, stop: ['a', 'b', 'c', 'd', 'e'] }, 400, 'stop', /at most 4 stop sequences/],
  ['a stop list with a number in it', { ...valid, stop: ['end', 5] }, 400, 'stop.1', /expected string/],
  ['a stop that is neither a string nor a list', { ...valid, stop: 5 }, 400, 'stop', /expected string or array/],
  ['an empty stop sequence', { ...valid, stop: '' }, 400, 'stop', /must not be empty/],
  ['an empty stop sequence in a list', { ...valid, stop: ['end', ''] }, 400, 'stop.1', /must not be empty/],
  ['a stop sequence over 1,000 characters', { ...valid, stop: 's'.repeat(1001) }, 400, 'stop', /at most 1000 characters/],
  ['a model name over 256 characters', { ...valid, model: 'm'.repeat(257) }, 400, 'model'],
  ['min_tokens above max_tokens', { ...valid, min_tokens: 5 }, 400, 'min_tokens', /min_tokens 5 is more than max_tokens \(2\)/],
  ['min_tokens above the default max_tokens', { model: 'llama-3-8b', prompt: 'hi', min_tokens: 100000 }, 400, 'min_tokens', /default max_tokens/],
  ['min_tokens above the max_tokens limit', { ...valid, model: 'strict', max_tokens: 40, min_tokens: 45 }, 400, 'min_tokens'],
  ['an unknown field', { ...valid, foo: 1 }, 400, 'foo', /Unrecognized/],
  ['n above 1', { ...valid, n: 2 }, 400, 'n', /not supported/],
  ['best_of above 1', { ...valid, best_of: 3 }, 400, 'best_of', /not supported/],
  ['logit_bias', { ...valid, logit_bias: { '50256': -100 } }, 400, 'logit_bias', /not supported/],
  ['suffix', { ...valid, suffix: 'end' }, 400, 'suffix', /not supported/],
  ['logprobs', { ...valid, logprobs: 2 }, 400, 'logprobs', /not supported/],
  ['a token-array prompt', { ...valid, prompt: [1, 2, 3] }, 400, 'prompt', /not supported/],
  ['a batch of prompts', { ...valid, prompt: ['a', 'b'] }, 400, 'prompt', /not supported/],
  ['an empty prompt', { ...valid, prompt: '' }, 400, 'prompt', /non-empty/],
  ['a prompt over the length limit', { ...valid, prompt: 'x'.repeat(1001) }, 400, 'prompt', /limit is 1000/],
  ['stream_options without stream', { ...valid, stream_options: { include_usage: true } }, 400, 'stream_options'],
  ['max_tokens over the model maximum when rejecting', { ...valid, model: 'strict', max_tokens: 100 }, 400, 'max_tokens'],
  ['an unknown model', { ...valid, model: 'gpt-99' }, 404, 'model', /gpt-99/],
];

test('each invalid request gets its status and names the field', async (t) => {
  for (const [name, body, status, param, message] of cases) {
    await t.test(name, async () => assertError(await post(body), status, param, message));
  }
});

test('a missing or wrong API key is a 401', async () => {
  const res = await fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(valid) });
  assertError({ status: res.status, body: await res.json() }, 401, null);
  assertError(await post(valid, { authorization: 'Bearer wrong-key-0123456789' }), 401, null);
  const models = await fetch(`${stack.url}/v1/models`);
  assert.equal(models.status, 401);
});

test('a body over the limit is a 413', async () => {
  assertError(await post({ ...valid, prompt: 'y'.repeat(5000) }), 413, null);
});

test('malformed JSON is a 400', async () => {
  assertError(await post('{"model": "llama-3-8b", "prompt": '), 400, null, /not valid JSON/);
});

test('a non-JSON content type is a 415', async () => {
  assertError(await post('model=llama-3-8b', { 'content-type': 'text/plain' }), 415, null);
  assertError(await post('model=llama-3-8b', { 'content-type': 'application/x-www-form-urlencoded' }), 415, null);
});

test('an unknown route is a 404 in the same envelope', async () => {
  const res = await fetch(`${stack.url}/v1/nothing-here`);
  assertError({ status: res.status, body: await res.json() }, 404, null);
});

test('a valid request still succeeds and echoes the request id', async () => {
  const res = await post(valid, { 'x-request-id': 'req-abc-123' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-request-id'), 'req-abc-123');
  assert.equal(res.headers.get('x-served-model'), 'llama-3-8b');
  const generated = await post(valid);
  assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const hostile = await post(valid, { 'x-request-id': 'bad id with spaces' });
  assert.notEqual(hostile.headers.get('x-request-id'), 'bad id with spaces');
});
