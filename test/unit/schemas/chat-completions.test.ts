/**
 * The json_schema depth cap: a schema exactly at the cap passes, one level more is refused at the
 * schema's own path, and even a hostile depth is refused without overflowing the stack.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatCompletionRequestSchema, MAX_JSON_SCHEMA_DEPTH } from '../../../src/schemas/chat-completions.js';

/** An object holding arrays, `levels` objects-and-arrays deep in all, built without JSON.stringify. */
function nested(levels: number): Record<string, unknown> {
  let inner: unknown = [];
  for (let i = 2; i < levels; i++) inner = [inner];
  return { type: 'object', items: inner, properties: { wide: { type: 'string' } } };
}

function request(schema: Record<string, unknown>) {
  return {
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
  };
}

test(`a json_schema ${MAX_JSON_SCHEMA_DEPTH} levels deep is accepted`, () => {
  const parsed = chatCompletionRequestSchema.safeParse(request(nested(MAX_JSON_SCHEMA_DEPTH)));
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
});

test('one level deeper is refused at response_format.json_schema.schema', () => {
  const parsed = chatCompletionRequestSchema.safeParse(request(nested(MAX_JSON_SCHEMA_DEPTH + 1)));
  assert.equal(parsed.success, false);
  const issue = parsed.error!.issues[0]!;
  assert.deepEqual(issue.path, ['response_format', 'json_schema', 'schema']);
  assert.match(issue.message, new RegExp(`deeper than ${MAX_JSON_SCHEMA_DEPTH} levels`));
});

test('a schema a million levels deep is refused, not a stack overflow', () => {
  const parsed = chatCompletionRequestSchema.safeParse(request(nested(1_000_000)));
  assert.equal(parsed.success, false);
});
