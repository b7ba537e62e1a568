/**
 * The waiver book on a clock the test sets: the waiver that lasts longest is the one an alert
 * names, a waiver ends at its expiry time exactly, and the list holds only waivers in effect.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WaiverBook, type Waiver } from '../../../src/governance/waivers.js';

const t0 = Date.parse('2026-03-01T12:00:00Z');
const minutes = (m: number): number => t0 + m * 60_000;

function waiver(id: string, expiresAt: number, overrides: Partial<Waiver> = {}): Waiver {
  return { id, model: 'llama-3-8b', signal: 'cost', reason: 'launch week', actor: 'carol', expiresAt, ...overrides };
}

test('of several active waivers the one that expires last is named, whatever order they were added in', () => {
  let now = t0;
  const book = new WaiverBook(() => now);
  // The short one first: a book that kept the first match, or the soonest, would name it.
  book.add(waiver('short', minutes(10)));
  book.add(waiver('long', minutes(60)));
  book.add(waiver('middle', minutes(30)));
  assert.equal(book.active('llama-3-8b', 'cost')?.id, 'long');
  // Other models and signals have their own waivers.
  assert.equal(book.active('qwen3', 'cost'), undefined);
  assert.equal(book.active('llama-3-8b', 'queue_delay'), undefined);
  now = minutes(45);
  assert.equal(book.active('llama-3-8b', 'cost')?.id, 'long');
});

test('a waiver is over at its expiry time exactly', () => {
  let now = minutes(10) - 1;
  const book = new WaiverBook(() => now);
  book.add(waiver('w', minutes(10)));
  assert.equal(book.active('llama-3-8b', 'cost')?.id, 'w');
  assert.deepEqual(book.list().map((w) => w.id), ['w']);
  now = minutes(10);
  assert.equal(book.active('llama-3-8b', 'cost'), undefined);
  assert.deepEqual(book.list(), []);
});

test('the list leaves out expired waivers, and keeps every active one', () => {
  let now = t0;
  const book = new WaiverBook(() => now);
  book.add(waiver('a', minutes(5)));
  book.add(waiver('b', minutes(20), { model: 'qwen3' }));
  book.add(waiver('c', minutes(40), { signal: 'queue_delay' }));
  assert.deepEqual(book.list().map((w) => w.id), ['a', 'b', 'c']);
  now = minutes(25);
  assert.deepEqual(book.list().map((w) => w.id), ['c']);
});
