/**
 * Prefix reuse as TRT-LLM's block KV cache does it: a prompt is split into full blocks of
 * `blockTokens` tokens, each identified by the hash of the whole prefix up to it, so a block is
 * reused only when everything before it matched too. Blocks live in an LRU bounded by maxBlocks.
 */
import { tokenize } from '../text/tokenizer.js';
import { hashString } from '../text/prng.js';
import type { KvCacheConfig } from '../types.js';

export interface KvAllocation {
  reusedBlocks: number;
  /** Prompt blocks not found in the cache. */
  missedBlocks: number;
  newBlocks: number;
  totalBlocks: number;
}

export class KvCache {
  /** Map order is the LRU order: oldest first. */
  private readonly blocks = new Map<string, true>();
  private reusedTotal = 0;

  constructor(private readonly config: KvCacheConfig) {}

  /** Looks the prompt up, then stores its full blocks; totals cover prompt plus generated tokens. */
  allocate(prompt: string, promptTokens: number, outputTokens: number): KvAllocation {
    const size = this.config.blockTokens;
    const totalBlocks = Math.ceil((promptTokens + outputTokens) / size);
    const fullPromptBlocks = Math.floor(promptTokens / size);
    if (fullPromptBlocks === 0) return { reusedBlocks: 0, missedBlocks: 0, newBlocks: totalBlocks, totalBlocks };

    const tokens = tokenize(prompt);
    let reused = 0;
    let matching = true;
    let key = 0;
    for (let b = 0; b < fullPromptBlocks; b++) {
      key = hashString(tokens.slice(b * size, (b + 1) * size).join(''), key);
      const id = `${b}:${key}`;
      if (matching && this.blocks.has(id)) {
        reused++;
        this.blocks.delete(id);
      } else {
        matching = false;
      }
      this.blocks.set(id, true);
    }
    while (this.blocks.size > this.config.maxBlocks) this.blocks.delete(this.blocks.keys().next().value!);
    this.reusedTotal += reused;
    return { reusedBlocks: reused, missedBlocks: fullPromptBlocks - reused, newBlocks: totalBlocks - reused, totalBlocks };
  }

  get cachedBlocks(): number {
    return this.blocks.size;
  }

  get reusedBlocksTotal(): number {
    return this.reusedTotal;
  }

  clear(): void {
    this.blocks.clear();
    this.reusedTotal = 0;
  }
}
