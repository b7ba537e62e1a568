/**
 * The optional degraded mode (off by default): a bounded LRU of recent successful non-streamed
 * answers to identical temperature-0 requests. When every upstream is unavailable the gateway
 * may serve one, marked `x-degraded: cached` — a real earlier answer of the model, never a
 * canned text passed off as one.
 */
import { createHash } from 'node:crypto';
import type { GenerationRequest } from '../triton/types.js';

interface CachedEntry {
  body: unknown;
  servedModel: string;
  /** The engine that produced the answer (version and hash, as the caller identifies it). */
  engine: string;
  storedAt: number;
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedEntry>();

  constructor(private readonly settings: { enabled: boolean; maxEntries: number; ttlMs: number }) {}

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** Only deterministic requests have a key: temperature 0 and not streamed. */
  key(operation: string, model: string, request: GenerationRequest): string | undefined {
    if (!this.settings.enabled || request.stream || request.temperature !== 0) return undefined;
    const { prompt, maxTokens, echo, topP, topK, seed, stop, presencePenalty, frequencyPenalty, repetitionPenalty, minTokens, guidedDecoding } = request;
    const material = JSON.stringify([operation, model, prompt, maxTokens, echo, topP, topK, seed, stop, presencePenalty, frequencyPenalty, repetitionPenalty, minTokens, guidedDecoding]);
    return createHash('sha256').update(material).digest('hex');
  }

  get(key: string): CachedEntry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (Date.now() - e.storedAt > this.settings.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    // Re-insert so the Map's order stays least-recently-used first.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  set(key: string, body: unknown, servedModel: string, engine: string): void {
    this.entries.delete(key);
    this.entries.set(key, { body, servedModel, engine, storedAt: Date.now() });
    while (this.entries.size > this.settings.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** Forgets every answer (after a rollback, earlier answers came from another engine). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
