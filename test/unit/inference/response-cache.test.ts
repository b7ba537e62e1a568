import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseCache } from '../../../src/inference/response-cache.js';

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
