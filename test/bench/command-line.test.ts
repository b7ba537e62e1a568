/**
 * The bench commands answer a bad option with their usage and exit code 2, and --help with the
 * usage and 0: never a stack trace from node:util's parseArgs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

function run(script: string, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 30_000 });
}

for (const script of ['bench/run.ts', 'bench/compare.ts', 'bench/allocation.ts', 'bench/profile-summary.ts', 'bench/relay-floor.ts', 'bench/stream-memory.ts', 'bench/sim-throughput.ts', 'bench/node-http-floor.ts', 'bench/thread-cpu.ts', 'bench/speed-probe-process.ts', 'bench/pool-compare.ts', 'bench/metric-updates.ts', 'bench/breaker-stats.ts']) {
  test(`${script} refuses an unknown option with its usage and exit code 2`, () => {
    const result = run(script, '--no-such-option');
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /Unknown option '--no-such-option'/);
    assert.match(result.stderr, /^usage: /m);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });
}

// Values each command checks itself: refused the same way, before anything is built or started.
for (const [script, args, message] of [
  ['bench/run.ts', ['--scenarios', '9'], /unknown scenario '9'/],
  ['bench/run.ts', ['--rates', '0'], /--rates expects positive numbers/],
  ['bench/thread-cpu.ts', ['--rate', 'fast'], /--rate expects a positive number/],
  ['bench/thread-cpu.ts', ['--observability', 'maybe'], /--observability expects on or off, not 'maybe'/],
  ['bench/relay-floor.ts', ['--rounds', '0'], /--rounds expects a positive number/],
  ['bench/relay-floor.ts', ['--parts', 'streaming,bogus'], /--parts: unknown part 'bogus'/],
  ['bench/compare.ts', ['--a', 'dist', '--b', 'dist', '--rate', '0'], /--rate expects a positive number/],
  ['bench/compare.ts', ['--a', 'dist', '--b', 'dist', '--rounds', '2.5'], /--rounds expects a whole number/],
  ['bench/compare.ts', ['--a', 'dist', '--b', 'dist', '--observability', 'maybe'], /--observability expects on or off, not 'maybe'/],
  ['bench/compare.ts', ['--a', 'dist', '--b', 'dist', '--upstream-failures', '1'], /--upstream-failures expects a fraction from 0 to below 1, not '1'/],
  ['bench/allocation.ts', ['--seconds', '0'], /--seconds expects a positive number/],
  ['bench/metric-updates.ts', ['--rounds', '0'], /--rounds expects a positive whole number/],
  ['bench/breaker-stats.ts', ['--calls', '5000,many'], /--calls expects positive whole numbers, not '5000,many'/],
  ['bench/allocation.ts', ['--observability', 'yes'], /--observability expects on or off, not 'yes'/],
  ['bench/stream-memory.ts', ['--runs', '1.5'], /--runs expects a positive whole number/],
  ['bench/speed-probe-process.ts', ['--every-ms', '5'], /--every-ms expects a number of at least 10/],
] as const) {
  test(`${script} ${args.join(' ')} is refused with the reason, the usage and exit code 2`, () => {
    const result = run(script, ...args);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.match(result.stderr, /^usage: /m);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('bench/compare.ts refuses a --b-node that is not a Node binary, before starting anything', () => {
  const result = run('bench/compare.ts', '--a', 'dist', '--b', 'dist', '--b-node', '/nonexistent/bin/node');
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /--b-node: cannot run '\/nonexistent\/bin\/node' as Node/);
  assert.match(result.stderr, /^usage: /m);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
});

test('--help prints the usage and exits 0', () => {
  const result = run('bench/compare.ts', '--help');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^usage: tsx bench\/compare.ts --a DIST_A --b DIST_B/);
});
