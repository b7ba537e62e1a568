import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AllowedMethods } from '../../../src/plugins/allowed-methods.js';

test('a path answers the methods routed on it, with parameters and wildcards matched as fastify matches them', () => {
  const allowed = new AllowedMethods();
  allowed.add('POST', '/v1/completions');
  allowed.add(['GET', 'HEAD'], '/v1/models/*');
  allowed.add('POST', '/admin/models/:name/disable');
  allowed.add(['GET', 'PATCH'], '/admin/controls');
  assert.deepEqual(allowed.for('/v1/completions'), ['POST']);
  assert.deepEqual(allowed.for('/v1/completions?stream=true'), ['POST']);
  assert.deepEqual(allowed.for('/v1/models/org/model-a'), ['GET', 'HEAD']);
  assert.deepEqual(allowed.for('/admin/models/qwen3/disable'), ['POST']);
  assert.deepEqual(allowed.for('/admin/controls'), ['GET', 'PATCH']);
  assert.deepEqual(allowed.for('/admin/models/qwen3'), []);
  assert.deepEqual(allowed.for('/nothing'), []);
});

test('a route added twice is one method, not an error', () => {
  const allowed = new AllowedMethods();
  allowed.add('GET', '/metrics');
  allowed.add(['GET', 'HEAD'], '/metrics');
  assert.deepEqual(allowed.for('/metrics'), ['GET', 'HEAD']);
});
