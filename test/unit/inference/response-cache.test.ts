import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseCache } from '../../../src/inference/response-cache.js';
import type { GenerationRequest } from '../../../src/triton/types.js';

const req = { prompt: 'p', maxTokens: 4, stream: false, echo: false, temperature: 0 };

test('only deterministic non-streamed requests have a key; identical requests share it', () => {
  const c = new ResponseCache({ enabled: true, maxEntries: 2, ttlMs: 60_000 });
  assert.equal(c.key('text_completion', 'm', { ...req, temperature: 0.7 }), undefined);
  assert.equal(c.key('text_completion', 'm', { ...req, stream: true }), undefined);
  assert.equal(c.key('text_completion', 'm', req), c.key('text_completion', 'm', { ...req }));
  assert.notEqual(c.key('text_completion', 'm', req), c.key('text_completion', 'm', { ...req, prompt: 'q' }));
  assert.equal(new ResponseCache({ enabled: false, maxEntries: 2, ttlMs: 1 }).key('text_completion', 'm', req), undefined);
});

test('bounded LRU: the least recently used entry goes first', () => {
  const c = new ResponseCache({ enabled: true, maxEntries: 2, ttlMs: 60_000 });
  c.set('a', 1, 'm', 'v1|h');
  c.set('b', 2, 'm', 'v1|h');
  assert.equal(c.get('a')?.body, 1);
  c.set('c', 3, 'm', 'v1|h');
  assert.equal(c.get('b'), undefined);
  assert.equal(c.get('a')?.body, 1);
  assert.equal(c.size, 2);
});

test("the key tells models and max_tokens apart: one model's answer is never served for another", () => {
  const c = new ResponseCache({ enabled: true, maxEntries: 10, ttlMs: 60_000 });
  const key = (model: string, request: GenerationRequest): string => c.key('text_completion', model, request)!;
  assert.notEqual(key('llama', req), key('qwen', req), 'the same request to another model');
  assert.notEqual(key('m', req), key('m', { ...req, maxTokens: 5 }), 'the same prompt with another max_tokens');
  c.set(key('llama', req), { text: 'llama says' }, 'llama', 'v1|h');
  assert.equal(c.get(key('qwen', req)), undefined, "qwen's request finds nothing");
  c.set(key('m', req), { text: 'four tokens' }, 'm', 'v1|h');
  assert.equal(c.get(key('m', { ...req, maxTokens: 400 })), undefined, 'a longer answer was asked for');
  assert.deepEqual(c.get(key('llama', req))?.body, { text: 'llama says' });
});

test('an entry expires once its TTL has passed', (t) => {
  // The cache reads Date.now(): the mocked clock moves only when told to.
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const c = new ResponseCache({ enabled: true, maxEntries: 10, ttlMs: 5_000 });
  c.set('a', 1, 'm', 'v1|h');
  t.mock.timers.tick(4_999);
  assert.equal(c.get('a')?.body, 1, 'still fresh');
  t.mock.timers.tick(2);
  assert.equal(c.get('a'), undefined, 'expired');
  assert.equal(c.size, 0, 'and forgotten');
});
