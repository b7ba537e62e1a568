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

for (const script of ['bench/run.ts', 'bench/compare.ts', 'bench/allocation.ts', 'bench/profile-summary.ts', 'bench/relay-floor.ts', 'bench/stream-memory.ts', 'bench/sim-throughput.ts', 'bench/node-http-floor.ts', 'bench/thread-cpu.ts', 'bench/speed-probe-process.ts']) {
  test(`${script} refuses an unknown option with its usage and exit code 2`, () => {
    const result = run(script, '--no-such-option');
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /Unknown option '--no-such-option'/);
    assert.match(result.stderr, /^usage: /m);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('--help prints the usage and exits 0', () => {
  const result = run('bench/compare.ts', '--help');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^usage: tsx bench\/compare.ts --a DIST_A --b DIST_B/);
});
