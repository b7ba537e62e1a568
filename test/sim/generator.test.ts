import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planGeneration, type GenerationInput } from '../../sim/text/generator.js';
import { countTokens, tokenize } from '../../sim/text/tokenizer.js';

const base: GenerationInput = {
  prompt: 'Explain KV caches',
  maxTokens: 12,
  sampled: true,
  seed: 3,
  stop: [],
  includeStop: false,
  minTokens: 0,
  eosAfterTokens: undefined,
  ignoreEos: false,
  words: ['alpha', 'beta', 'gamma.', 'delta', 'epsilon,'],
};

describe('the deterministic generator and tokenizer', () => {
  test('tokens are words with their leading whitespace; trailing whitespace is not a token', () => {
    assert.deepEqual(tokenize('Hello,  world!\n'), ['Hello,', '  world!']);
    assert.equal(countTokens(''), 0);
    assert.equal(countTokens('   '), 0);
    assert.equal(countTokens('héllo wörld 你好'), 3);
  });

  test('max_tokens ends with "length"; the text has exactly that many tokens', () => {
    const plan = planGeneration(base);
    assert.equal(plan.finishReason, 'length');
    assert.equal(plan.tokenTexts.length, 12);
    assert.equal(countTokens(plan.text), 12);
    assert.equal(plan.tokenTexts.join(''), plan.text);
    assert.equal(plan.promptTokens, 3);
  });

  test('a stop string spanning tokens cuts the text before it; later token texts are empty', () => {
    const free = planGeneration({ ...base, maxTokens: 40 }).text;
    const at = free.indexOf('.');
    assert.ok(at > 0, 'the vocabulary has a word with a period');
    const stopped = planGeneration({ ...base, maxTokens: 40, stop: ['.'] });
    assert.equal(stopped.text, free.slice(0, at));
    assert.equal(stopped.finishReason, 'stop');
    assert.equal(stopped.matchedStop, '.');
    assert.equal(stopped.tokenTexts.join(''), stopped.text);
    const spanning = free.slice(at - 3, at + 3); // crosses a token boundary
    const cut = planGeneration({ ...base, maxTokens: 40, stop: [spanning] });
    assert.equal(cut.text, free.slice(0, free.indexOf(spanning)));
    assert.equal(cut.tokenTexts.join(''), cut.text);
    const kept = planGeneration({ ...base, maxTokens: 40, stop: ['.'], includeStop: true });
    assert.equal(kept.text, free.slice(0, at + 1));
  });

  test('a natural end finishes with "stop" after eosAfterTokens, no earlier than min_tokens, unless ignore_eos', () => {
    assert.deepEqual(
      [planGeneration({ ...base, eosAfterTokens: 5 }).tokenTexts.length, planGeneration({ ...base, eosAfterTokens: 5 }).finishReason],
      [5, 'stop'],
    );
    assert.equal(planGeneration({ ...base, eosAfterTokens: 5, minTokens: 8 }).tokenTexts.length, 8);
    assert.equal(planGeneration({ ...base, eosAfterTokens: 5, ignoreEos: true }).tokenTexts.length, 12);
  });

  test('greedy ignores the seed; sampling depends on it; both depend on the prompt', () => {
    const greedy = (seed: number) => planGeneration({ ...base, sampled: false, seed }).text;
    assert.equal(greedy(1), greedy(2));
    const sampled = (seed: number) => planGeneration({ ...base, seed }).text;
    assert.notEqual(sampled(1), sampled(2));
    assert.equal(sampled(1), sampled(1));
    assert.notEqual(planGeneration({ ...base, prompt: 'another prompt' }).text, sampled(3));
    assert.equal(planGeneration({ ...base, seed: 2 ** 40 + 1 }).text, planGeneration({ ...base, seed: 2 ** 40 + 1 }).text);
    assert.notEqual(planGeneration({ ...base, seed: 2 ** 40 + 1 }).text, planGeneration({ ...base, seed: 1 }).text);
  });
});
