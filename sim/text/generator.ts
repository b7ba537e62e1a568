/**
 * Deterministic text generation. The whole answer is planned up front from (prompt, seed), so
 * streamed deltas are slices of the same string the non-streamed answer returns.
 *
 * Each generated token is " " + a word drawn from the vocabulary with a PRNG seeded by the
 * prompt and, when sampling, the request seed (greedy ignores the seed). Stop strings are
 * searched in the generated text only; the text is cut before the match (or after it with
 * includeStop) and the token that completed the match is the last one counted.
 */
import { countTokens } from './tokenizer.js';
import { createPrng, foldSeed, hashString } from './prng.js';

export type FinishReason = 'stop' | 'length';

export interface GenerationInput {
  prompt: string;
  maxTokens: number;
  /** false = greedy: the seed is ignored. */
  sampled: boolean;
  seed: number;
  stop: readonly string[];
  includeStop: boolean;
  minTokens: number;
  /** Natural end after this many tokens (finish "stop"), unless ignoreEos. */
  eosAfterTokens: number | undefined;
  ignoreEos: boolean;
  words: readonly string[];
}

export interface GenerationPlan {
  promptTokens: number;
  /** Text of each generated token after stop truncation (may be "" past the cut). */
  tokenTexts: string[];
  /** Concatenation of tokenTexts. */
  text: string;
  finishReason: FinishReason;
  /** The stop string that ended generation, if any. */
  matchedStop: string | undefined;
}

const GREEDY_SALT = 0x6a09e667;

export function planGeneration(input: GenerationInput): GenerationPlan {
  const promptTokens = countTokens(input.prompt);
  const rng = createPrng(hashString(input.prompt, input.sampled ? foldSeed(input.seed) : GREEDY_SALT));
  const words = input.words;

  let limit = input.maxTokens;
  let finishReason: FinishReason = 'length';
  if (input.eosAfterTokens !== undefined && !input.ignoreEos) {
    const eos = Math.max(input.eosAfterTokens, input.minTokens, 1);
    if (eos < limit) {
      limit = eos;
      finishReason = 'stop';
    }
  }

  const stops = input.stop.filter((s) => s.length > 0);
  const rawTexts: string[] = [];
  let text = '';
  let cut = -1;
  let matchedStop: string | undefined;
  for (let i = 0; i < limit; i++) {
    const piece = ' ' + words[Math.floor(rng() * words.length)]!;
    const before = text.length;
    text += piece;
    rawTexts.push(piece);
    if (stops.length > 0) {
      const hit = findStop(text, before, stops);
      if (hit !== undefined) {
        cut = input.includeStop ? hit.at + hit.stop.length : hit.at;
        matchedStop = hit.stop;
        finishReason = 'stop';
        break;
      }
    }
  }

  if (cut < 0) return { promptTokens, tokenTexts: rawTexts, text, finishReason, matchedStop };
  const tokenTexts: string[] = [];
  let offset = 0;
  for (const piece of rawTexts) {
    const start = Math.min(offset, cut);
    const end = Math.min(offset + piece.length, cut);
    tokenTexts.push(end > start ? piece.slice(start - offset, end - offset) : '');
    offset += piece.length;
  }
  return { promptTokens, tokenTexts, text: text.slice(0, cut), finishReason, matchedStop };
}

/** The earliest stop match that the newest token completed (it may start in earlier tokens). */
function findStop(text: string, newFrom: number, stops: readonly string[]): { at: number; stop: string } | undefined {
  let best: { at: number; stop: string } | undefined;
  for (const stop of stops) {
    const at = text.indexOf(stop, Math.max(0, newFrom - stop.length + 1));
    if (at >= 0 && (best === undefined || at < best.at)) best = { at, stop };
  }
  return best;
}
