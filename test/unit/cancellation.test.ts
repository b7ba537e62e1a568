/**
 * Cancellation stands in for AbortController on the request path: each case runs on both and
 * must come out the same, so code written for an AbortSignal behaves alike with either.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { Cancellation, type CancelSignal } from '../../src/cancellation.js';

interface Controller {
  signal: CancelSignal;
  abort(reason?: unknown): void;
}
const kinds: Array<[string, () => Controller]> = [
  ['AbortController', () => new AbortController()],
  ['Cancellation', () => new Cancellation()],
];

for (const [kind, make] of kinds) {
  test(`${kind}: listeners run once, in order, with the reason set`, () => {
    const c = make();
    const calls: string[] = [];
    c.signal.addEventListener('abort', () => calls.push(`a:${String(c.signal.reason)}`), { once: true });
    c.signal.addEventListener('abort', () => calls.push('b'));
    assert.equal(c.signal.aborted, false);
    c.abort('gone');
    c.abort('again');
    assert.deepEqual(calls, ['a:gone', 'b']);
    assert.equal(c.signal.aborted, true);
    assert.equal(c.signal.reason, 'gone');
  });

  test(`${kind}: a removed listener is not called, also when an earlier listener removes it`, () => {
    const c = make();
    const calls: string[] = [];
    const second = (): void => void calls.push('second');
    const third = (): void => void calls.push('third');
    c.signal.addEventListener('abort', () => {
      calls.push('first');
      c.signal.removeEventListener('abort', second);
    });
    c.signal.addEventListener('abort', second);
    c.signal.addEventListener('abort', third);
    c.signal.removeEventListener('abort', third);
    c.abort();
    assert.deepEqual(calls, ['first']);
  });

  test(`${kind}: the same listener added twice runs once; one added after the abort never runs`, () => {
    const c = make();
    let n = 0;
    const listener = (): void => void n++;
    c.signal.addEventListener('abort', listener);
    c.signal.addEventListener('abort', listener);
    c.abort();
    c.signal.addEventListener('abort', listener);
    c.abort();
    assert.equal(n, 1);
  });

  test(`${kind}: without a reason the reason is an AbortError`, () => {
    const c = make();
    c.abort();
    assert.ok(c.signal.reason instanceof DOMException);
    assert.equal((c.signal.reason as DOMException).name, 'AbortError');
  });
}

test('a listener that throws does not stop the others; its error surfaces as an uncaught exception', () => {
  // In a child process: the test runner would take the uncaught exception as this test failing.
  const script = `
    import { Cancellation } from './src/cancellation.ts';
    const c = new Cancellation();
    c.signal.addEventListener('abort', () => { throw new Error('listener failed'); });
    c.signal.addEventListener('abort', () => console.log('second listener ran'));
    c.abort();
    console.log('abort returned');
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.stdout, 'second listener ran\nabort returned\n');
  assert.match(run.stderr, /Error: listener failed/);
  assert.notEqual(run.status, 0);
});
