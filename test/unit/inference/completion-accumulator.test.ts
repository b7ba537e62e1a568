import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionAccumulator, costUsd } from '../../../src/inference/completion-accumulator.js';

test('sums per-response token deltas and reports length exactly at the limit', () => {
  const acc = new CompletionAccumulator(3);
  acc.add({ text: 'a', inputTokens: 5, outputTokens: 1, final: false });
  acc.add({ text: ' b', outputTokens: 1, final: false });
  acc.add({ text: ' c', outputTokens: 1, final: true });
  assert.equal(acc.text, 'a b c');
  assert.deepEqual(acc.usage(), { promptTokens: 5, completionTokens: 3 });
  assert.equal(acc.finishReason(), 'length');
});

test('stops short of the limit is a stop; the backend reason wins when given', () => {
  const acc = new CompletionAccumulator(10);
  acc.add({ text: 'x', inputTokens: 2, outputTokens: 4, final: true });
  assert.equal(acc.finishReason(), 'stop');
  const vllm = new CompletionAccumulator(10);
  vllm.add({ text: 'x', inputTokens: 2, outputTokens: 4, finishReason: 'length', final: true });
  assert.equal(vllm.finishReason(), 'length');
});

test("a backend's stop on its last allowed token stays stop: the model ended, it was not cut", () => {
  const vllm = new CompletionAccumulator(4);
  vllm.add({ text: 'x', inputTokens: 2, outputTokens: 4, finishReason: 'stop', final: true });
  assert.equal(vllm.finishReason(), 'stop');
});

test('no token counts from the backend means no usage, never a guess', () => {
  const acc = new CompletionAccumulator(10);
  acc.add({ text: 'x', final: true });
  assert.equal(acc.usage(), undefined);
});

test('cost is tokens times the per-million price', () => {
  assert.equal(costUsd({ promptTokens: 1_000_000, completionTokens: 500_000 }, { inputPerMillion: 0.2, outputPerMillion: 0.6 }), 0.5);
  assert.equal(costUsd({ promptTokens: 1, completionTokens: 1 }, undefined), undefined);
});

test('a stream accumulator keeps usage and finish reason but not the text already sent', () => {
  const acc = new CompletionAccumulator(2, { keepText: false });
  acc.add({ text: 'a', inputTokens: 5, outputTokens: 1, final: false });
  acc.add({ text: ' b', outputTokens: 1, final: true });
  assert.equal(acc.text, '');
  assert.deepEqual(acc.usage(), { promptTokens: 5, completionTokens: 2 });
  assert.equal(acc.finishReason(), 'length');
});
