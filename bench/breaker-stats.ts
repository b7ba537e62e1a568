/**
 * What one read of an opossum breaker's stats costs with N calls in its rolling window, with
 * opossum's latency percentiles on (its default) and off (the gateway's breakers,
 * src/inference/breakers.ts). opossum reads them on every failure, to decide whether to open.
 *
 *   npx tsx bench/breaker-stats.ts [--calls 5000,20000] [--reads 200]
 *
 * Prints µs per read for each setting and window size.
 */
import CircuitBreaker from 'opossum';
import { parseCommandLine, refuseOption } from './lib/command-line.js';

const usage = 'usage: tsx bench/breaker-stats.ts [--calls N,N] [--reads N]';
const { values } = parseCommandLine({ options: { calls: { type: 'string', default: '5000,20000' }, reads: { type: 'string', default: '200' } } }, usage);
const windows = values.calls.split(',').map(Number);
const reads = Number(values.reads);
if (windows.some((n) => !(n > 0) || !Number.isInteger(n))) refuseOption(`--calls expects positive whole numbers, not '${values.calls}'`, usage);
if (!(reads > 0) || !Number.isInteger(reads)) refuseOption('--reads expects a positive whole number', usage);

for (const rollingPercentilesEnabled of [true, false]) {
  // The gateway's window: 10 s in 10 buckets; every call lands in the current one here.
  const breaker = new CircuitBreaker(async () => 1, { timeout: false, rollingCountTimeout: 10_000, rollingCountBuckets: 10, rollingPercentilesEnabled, enableSnapshots: false });
  for (const calls of [...windows].sort((a, b) => a - b)) {
    while (breaker.stats.fires < calls) await breaker.fire();
    const started = process.hrtime.bigint();
    for (let i = 0; i < reads; i++) void breaker.stats;
    const us = Number(process.hrtime.bigint() - started) / reads / 1000;
    process.stdout.write(`latency percentiles ${rollingPercentilesEnabled ? 'on ' : 'off'}: ${calls} calls in the window, ${us.toFixed(1)} µs per stats read\n`);
  }
  breaker.shutdown();
}
