/**
 * bench/pool-compare.ts reads compare.ts's JSON files: each run's split of rounds with its p, the
 * pooled split, and a warning when the runs lean opposite ways.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

function phase(p99: number, cpuUs: number) {
  return { latency: { p50: 1, mean: p99 / 4, p99 }, gatewayCpuUsPerRequest: cpuUs };
}

/** A compare.ts file whose B has the lower p99 in `bLower` rounds and the higher in `bHigher`; CPU always higher. */
function compareFile(dir: string, name: string, bLower: number, bHigher: number, variant = '/tmp/variant'): string {
  const rounds = [
    ...Array.from({ length: bLower }, () => ({ direct: phase(1, 0), A: phase(5, 800), B: phase(3, 820) })),
    ...Array.from({ length: bHigher }, () => ({ direct: phase(1, 0), A: phase(3, 800), B: phase(5, 820) })),
  ];
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ builds: { A: '/tmp/base', B: variant }, rounds }));
  return file;
}

function run(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'bench/pool-compare.ts', ...args], { encoding: 'utf8', timeout: 30_000 });
}

test('prints each run’s split with its p, the pooled split, and no warning when the runs agree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pool-compare-'));
  const result = run(compareFile(dir, 'one.json', 12, 4), compareFile(dir, 'two.json', 7, 1));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /\| one\.json \| \/tmp\/base → \/tmp\/variant \| 16 \| 0 \/ 0 \(p = 1\.0\) \| 12 \/ 4 \(p = 0\.077\) \|/);
  assert.match(result.stdout, /\| two\.json \| .* \| 8 \| .* \| 7 \/ 1 \(p = 0\.070\) \|/);
  assert.match(result.stdout, /\| pooled \| +\| 24 \| 0 \/ 0 \(p = 1\.0\) \| 19 \/ 5 \(p = 0\.0066\) \|.* 0 \/ 24 \(p < 0\.001\) \|/);
  assert.doesNotMatch(result.stdout, /lean opposite ways/);
});

test('says when the runs lean opposite ways, and when they name different variants', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pool-compare-'));
  const result = run(compareFile(dir, 'one.json', 11, 5), compareFile(dir, 'two.json', 4, 20, '/tmp/other'));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /\| pooled \| +\| 40 \| .* \| 15 \/ 25 \(p = 0\.15\) \|/);
  assert.match(result.stdout, /The runs lean opposite ways on overhead p99, overhead mean: read the pooled p there as no finding\./);
  assert.match(result.stdout, /The runs name 2 different B builds/);
});

test('refuses no files, or a file compare.ts did not write, with the reason, the usage and exit code 2', () => {
  const none = run();
  assert.equal(none.status, 2);
  assert.match(none.stderr, /give one or more results\/compare-<timestamp>\.json files\nusage: /);
  const dir = mkdtempSync(join(tmpdir(), 'pool-compare-'));
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ scenario: 'non-streamed' }));
  const wrong = run(other);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /other\.json: not a file written by bench\/compare\.ts/);
  const nothing = join(dir, 'null.json');
  writeFileSync(nothing, 'null');
  const empty = run(nothing);
  assert.equal(empty.status, 2, empty.stderr);
  assert.match(empty.stderr, /null\.json: not a file written by bench\/compare\.ts/);
  const notJson = run('README.md');
  assert.equal(notJson.status, 2);
  assert.match(notJson.stderr, /README\.md: .*not valid JSON/);
  assert.doesNotMatch(notJson.stderr + wrong.stderr + empty.stderr, /\n\s+at /, 'no stack trace');
});
