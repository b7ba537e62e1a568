/**
 * The stall figures next to the p99 in bench tables: run-queue wait from /proc schedstat and
 * GC pauses from prom-client's default `nodejs_gc_duration_seconds`.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { parseGcTotals, parseSchedStat, startGatewayTimeWindow } from '../../bench/lib/gateway-time.js';

test('parseSchedStat reads on-CPU ns, run-queue ns and timeslices', () => {
  assert.deepEqual(parseSchedStat('154299 2300 17\n'), { onCpuNs: 154299, runQueueNs: 2300, slices: 17 });
  assert.equal(parseSchedStat(''), undefined);
  assert.equal(parseSchedStat('12 x 3'), undefined);
});

test('parseGcTotals sums every GC kind and counts the pauses above 10 ms', async () => {
  // The same name and buckets as prom-client's default GC histogram, filled with known pauses.
  const registry = new Registry();
  const gc = new Histogram({ name: 'nodejs_gc_duration_seconds', help: 'gc', labelNames: ['kind'], buckets: [0.001, 0.01, 0.1, 1, 2, 5], registers: [registry] });
  gc.observe({ kind: 'minor' }, 0.004);
  gc.observe({ kind: 'minor' }, 0.012);
  gc.observe({ kind: 'minor' }, 0.0005);
  gc.observe({ kind: 'major' }, 0.05);
  gc.observe({ kind: 'incremental' }, 0.002);
  const totals = parseGcTotals(await registry.metrics());
  assert.ok(totals);
  assert.equal(totals.pauses, 5);
  assert.equal(totals.over10ms, 2);
  assert.ok(Math.abs(totals.seconds - 0.0685) < 1e-9, `seconds ${totals.seconds}`);
  assert.equal(parseGcTotals('# no gc here\nprocess_cpu_seconds_total 3\n'), undefined);
});

test('prom-client default metrics still export the GC histogram the parser reads', async () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  assert.ok(registry.getSingleMetric('nodejs_gc_duration_seconds'), 'prom-client renamed its GC histogram');
  // The histogram has no series until V8 has collected once: make garbage until it has.
  let totals = parseGcTotals(await registry.metrics());
  for (let i = 0; i < 100 && !totals; i++) {
    let keep: number[][] = [];
    for (let j = 0; j < 20_000; j++) keep.push([j, j + 1]);
    keep = [];
    await new Promise((resolve) => setTimeout(resolve, 10));
    totals = parseGcTotals(await registry.metrics());
    assert.equal(keep.length, 0);
  }
  assert.ok(totals && totals.pauses > 0, 'the exposition has no nodejs_gc_duration_seconds_count');
});

test('a gateway time window reports the main thread\'s CPU, its run-queue wait and GC pauses between start and stop', { skip: process.platform !== 'linux' }, async () => {
  let gcCount = 3;
  let gcSum = 0.01;
  // Stands in for the gateway's /metrics: a real HTTP endpoint whose GC totals grow.
  const server = createServer((_req, res) => {
    res.end(`nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor"} ${gcCount - 1}\nnodejs_gc_duration_seconds_sum{kind="minor"} ${gcSum}\nnodejs_gc_duration_seconds_count{kind="minor"} ${gcCount}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const window = await startGatewayTimeWindow(process.pid, url);
    const until = performance.now() + 50;
    while (performance.now() < until) {
      // Busy, so the main thread is scheduled at least once in the window.
    }
    gcCount += 4;
    gcSum += 0.2;
    const time = await window.stop();
    assert.equal(time.gcPauses, 4);
    assert.equal(time.gcPausesOver10ms, 0);
    assert.ok(time.gcMsPerS !== undefined && time.gcMsPerS > 0);
    assert.ok(time.runQueueMsPerS !== undefined && time.runQueueMsPerS >= 0, 'no schedstat for this process');
    // The busy loop ran on this thread: some CPU, and never more than one thread's worth of the window.
    assert.ok(time.mainThreadCpuMsPerS !== undefined && time.mainThreadCpuMsPerS > 0 && time.mainThreadCpuMsPerS <= 1000, `main thread ${time.mainThreadCpuMsPerS} ms/s`);
    const withoutMetrics = await (await startGatewayTimeWindow(process.pid, undefined)).stop();
    assert.equal(withoutMetrics.gcPauses, undefined);
  } finally {
    server.close();
  }
});
