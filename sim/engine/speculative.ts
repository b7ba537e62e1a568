/**
 * Speculative decoding counts: each step proposes `draftTokens` draft tokens and accepts a
 * leading run of them, each with probability acceptanceRate; a step yields the accepted tokens
 * plus one from the target model. Seeded per request, so the counts are reproducible.
 */
import { createPrng } from '../text/prng.js';
import type { SpeculativeConfig } from '../types.js';

export interface SpeculativeCounts {
  draftTokens: number;
  acceptedDraftTokens: number;
}

export function speculate(config: SpeculativeConfig | undefined, outputTokens: number, seed: number): SpeculativeCounts {
  if (config === undefined || config.draftTokens <= 0 || outputTokens <= 1) return { draftTokens: 0, acceptedDraftTokens: 0 };
  const rng = createPrng(seed);
  let produced = 1; // the first token comes from the context phase
  let draft = 0;
  let accepted = 0;
  while (produced < outputTokens) {
    const room = Math.min(config.draftTokens, outputTokens - produced - 1);
    let ok = 0;
    while (ok < room && rng() < config.acceptanceRate) ok++;
    draft += config.draftTokens;
    accepted += ok;
    produced += ok + 1;
  }
  return { draftTokens: draft, acceptedDraftTokens: accepted };
}
