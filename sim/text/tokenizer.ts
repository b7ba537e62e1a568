/**
 * The simulator's tokenizer: a token is a maximal run of whitespace followed by non-whitespace
 * (/\s*\S+/g), i.e. a word with its leading whitespace. Trailing whitespace is not a token.
 * Simple on purpose so a test can count tokens by hand and usage numbers are exact.
 */
const TOKEN = /\s*\S+/g;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function countTokens(text: string): number {
  TOKEN.lastIndex = 0;
  let n = 0;
  while (TOKEN.exec(text) !== null) n++;
  return n;
}
