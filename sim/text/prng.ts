/**
 * Seeded randomness. Everything the simulator draws (words, speculative acceptance, fault
 * fractions) comes from here, so a run is reproducible from its seeds.
 */

/** FNV-1a over UTF-16 code units, folded with a numeric salt; 32-bit. */
export function hashString(text: string, salt = 0): number {
  let h = (0x811c9dc5 ^ (salt >>> 0)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Folds a possibly 53-bit seed into 32 bits without losing its high half. */
export function foldSeed(seed: number): number {
  const hi = Math.floor(seed / 0x100000000) >>> 0;
  return (seed >>> 0) ^ Math.imul(hi, 0x9e3779b1);
}

/** mulberry32: small, fast, good enough for picking words. Returns floats in [0, 1). */
export function createPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
