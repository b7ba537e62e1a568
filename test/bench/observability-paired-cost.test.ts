/**
 * Scenario 4's extra cost is paired within each round (on minus the off phase next to it), then
 * the median over rounds, and its CPU is split between the main thread and the other threads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PhaseResult } from '../../bench/lib/phase.js';
import { formatP, pairedExtraCost, signTestP, splitOfRounds, type Round } from '../../bench/lib/paired-rounds.js';

/** A phase at 500 req/s: latency p50/mean/p99 (ms), CPU per request (µs) and the main thread's share (µs). */
function phase(p50: number, cpuUs: number, mainUs: number): PhaseResult {
  return {
    achievedRate: 500,
    latency: { p50, mean: p50 * 2, p99: p50 * 10 },
    gatewayCpuUsPerRequest: cpuUs,
    gatewayTime: { mainThreadCpuMsPerS: (mainUs * 500) / 1000 },
  } as unknown as PhaseResult;
}

test('the extra cost is the median of each round’s own on − off, not the difference of the medians', () => {
  const direct = phase(1, 0, 0);
  const rounds: Round[] = [
    // A slow round: both sides high. Paired, it adds what the other rounds add.
    { direct, off: phase(2.0, 1000, 900), on: phase(2.1, 1200, 1040) },
    { direct, off: phase(1.4, 600, 540), on: phase(1.5, 800, 680) },
    { direct, off: phase(1.5, 650, 585), on: phase(1.6, 850, 725) },
  ];
  const cost = pairedExtraCost(rounds);
  assert.ok(Math.abs(cost.p50 - 0.1) < 1e-9);
  assert.ok(Math.abs(cost.mean - 0.2) < 1e-9);
  assert.equal(cost.cpuUs, 200);
  assert.equal(Math.round(cost.cpuPercent), 31, 'the median of +20%, +33% and +31%');
  assert.equal(Math.round(cost.mainThreadCpuUs), 140);
  assert.equal(Math.round(cost.otherThreadsCpuUs), 60, '200 µs in all, 140 on the main thread');
});

test('counts the rounds in which the variant was lower and higher, one figure at a time; an equal round counts for neither', () => {
  const direct = phase(1, 0, 0);
  const rounds: Round[] = [
    { direct, off: phase(2.0, 1000, 900), on: phase(2.1, 900, 800) },
    { direct, off: phase(1.4, 600, 540), on: phase(1.3, 650, 600) },
    { direct, off: phase(1.5, 650, 585), on: phase(1.5, 600, 560) },
  ];
  const p50 = splitOfRounds(rounds, (p) => p.latency.p50);
  assert.equal(p50.lower, 1, 'lower in the second round only; equal is not lower');
  assert.equal(p50.higher, 1, 'higher in the first round only; equal is not higher');
  assert.equal(p50.p, signTestP(1, 1), 'the p of the rounds that differ');
  assert.deepEqual(splitOfRounds(rounds, (p) => p.gatewayCpuUsPerRequest), { lower: 2, higher: 1, p: signTestP(2, 1) });
  assert.deepEqual(splitOfRounds(rounds, () => undefined), { lower: 0, higher: 0, p: 1 }, 'a figure a phase does not have counts for neither side');
});

test('the sign test gives the exact two-sided binomial p of a split of rounds', () => {
  const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);
  // 2 × (C(16,0) + … + C(16,4)) / 2^16 = 2 × 2517 / 65536.
  close(signTestP(12, 4), (2 * 2517) / 65536);
  close(signTestP(4, 12), (2 * 2517) / 65536);
  close(signTestP(14, 2), (2 * 137) / 65536);
  close(signTestP(16, 0), 2 / 65536);
  close(signTestP(5, 0), 0.0625);
  assert.equal(signTestP(8, 8), 1, 'an even split is capped at 1');
  assert.equal(signTestP(0, 0), 1, 'no round that differs says nothing');
  assert.ok(signTestP(11, 5) > 0.2 && signTestP(11, 5) < 0.22);
  assert.equal(signTestP(1500, 1500), 1, 'an even split of many rounds is still 1, not an underflow to 0');
  assert.ok(signTestP(1400, 1600) > 0 && signTestP(1400, 1600) < 0.001, 'a lopsided split of many rounds is small but not 0');
});

test('p-values are printed to two significant digits, the smallest as "< 0.001"', () => {
  assert.equal(formatP(signTestP(12, 4)), '= 0.077');
  assert.equal(formatP(signTestP(14, 2)), '= 0.0042');
  assert.equal(formatP(signTestP(16, 0)), '< 0.001');
  assert.equal(formatP(1), '= 1.0');
});
