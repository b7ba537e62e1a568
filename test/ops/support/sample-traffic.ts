/**
 * A little of every kind of traffic, so a scrape afterwards shows the series that traffic
 * produces: a completion, a stream, a chat completion, a fallback, an upstream error and a stream
 * cut mid-way. Expects the stack of test/helpers/resilience-stack.ts (llama-3-8b falls back to
 * qwen3; solo has no fallback).
 */
import assert from 'node:assert/strict';
import { complete, completeStream } from '../../helpers/openai-http.js';
import { primary, secondary } from '../../helpers/resilience-stack.js';
import type { Stack } from '../../helpers/stack.js';

export async function driveSampleTraffic(stack: Stack): Promise<void> {
  const body = { prompt: 'contract test', max_tokens: 6 };
  assert.equal((await complete(stack.url, { ...body, model: 'llama-3-8b' })).status, 200);
  const stream = await completeStream(stack.url, { ...body, model: 'llama-3-8b' });
  assert.ok(stream.status === 200 && stream.done, 'a whole stream');
  const chat = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'qwen3', messages: [{ role: 'user', content: 'contract test' }], max_tokens: 6 }),
  });
  assert.equal(chat.status, 200, await chat.text());

  stack.sim.setFault(primary, { kind: 'error', code: 'UNAVAILABLE', message: 'contract test: primary down' });
  const fallback = await complete(stack.url, { ...body, model: 'llama-3-8b' });
  assert.equal(fallback.status, 200);
  assert.equal(fallback.headers.get('x-served-model'), 'qwen3', 'served by the fallback');

  stack.sim.setFault('llama-3-8b-bls', { kind: 'error', code: 'UNAVAILABLE', message: 'contract test: solo down' });
  const failed = await complete(stack.url, { ...body, model: 'solo' });
  assert.ok(failed.status >= 500, `an upstream error is a 5xx, got ${failed.status}`);

  stack.sim.setFault(secondary, { kind: 'cut', afterTokens: 2 });
  const cut = await completeStream(stack.url, { ...body, model: 'qwen3' });
  assert.equal(cut.done, false, 'the cut stream does not end with [DONE]');
  stack.sim.clearFaults();
}
