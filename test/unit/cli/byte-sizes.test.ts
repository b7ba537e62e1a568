/**
 * How the backup commands print sizes and rates: whole bytes below 1 KiB, one decimal above, a
 * value that rounds up to 1024 of a unit shown in the next one, and a rate only when there is one
 * (a user saw `(17 B 426.06545122223525 B/s)`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatRate, formatSizeAndRate } from '../../../src/cli/byte-sizes.js';

const KiB = 1024;
const MiB = 1024 * KiB;

test('sizes: whole bytes, then one decimal in binary units', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(17), '17 B');
  assert.equal(formatBytes(426.06545122223525), '426 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(3.2 * MiB), '3.2 MiB');
  assert.equal(formatBytes(41.54 * MiB), '41.5 MiB');
  assert.equal(formatBytes(5 * 1024 * 1024 * MiB), '5.0 TiB');
  assert.equal(formatBytes(2048 * 1024 * 1024 * MiB), '2.0 PiB');
});

test('a value that rounds to 1024 of a unit is shown in the next unit', () => {
  assert.equal(formatBytes(1023.6), '1.0 KiB');
  assert.equal(formatBytes(MiB - 1), '1.0 MiB');
  assert.equal(formatBytes(1023.97 * MiB), '1.0 GiB');
});

test('rates: bytes over milliseconds, per second, rounded the same way', () => {
  assert.equal(formatRate(17, 39.9), '426 B/s');
  assert.equal(formatRate(41.5 * MiB, 1000), '41.5 MiB/s');
  assert.equal(formatRate(3.2 * MiB, 77.1), '41.5 MiB/s');
  // No time measured or nothing moved: no rate, rather than Infinity or 0 B/s.
  assert.equal(formatRate(17, 0), undefined);
  assert.equal(formatRate(0, 12), undefined);
});

test('size and rate together, as the progress lines print them', () => {
  assert.equal(formatSizeAndRate(17, 39.9), '17 B, 426 B/s');
  assert.equal(formatSizeAndRate(3.2 * MiB, 77.1), '3.2 MiB, 41.5 MiB/s');
  assert.equal(formatSizeAndRate(17, 0), '17 B');
});
