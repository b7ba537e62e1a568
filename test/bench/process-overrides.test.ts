/**
 * The benchmark's runtime overrides reach the processes they name: BENCH_GATEWAY_NODE is the
 * program the gateway and the bare relay standing in for it are started with (a wrapper here,
 * that records what it ran and execs Node), and BENCH_SIM_NODE_FLAGS are on the simulator's
 * command line. The report names the gateway's Node when it is not the load generator's.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBareRelay } from '../../bench/lib/bare-relay.js';
import { tritonModel } from '../../bench/lib/bench-stack.js';
import { startGateway, startSim } from '../../bench/lib/processes.js';
import { machineInfo } from '../../bench/lib/proc-stats.js';
import { machineLine } from '../../bench/lib/report.js';

test('BENCH_GATEWAY_NODE starts the gateway and the bare relay, and BENCH_SIM_NODE_FLAGS reach the simulator', async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), 'bench-overrides-'));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  const mark = join(workDir, 'wrapper-ran');
  const wrapper = join(workDir, 'node-wrapper.sh');
  writeFileSync(wrapper, `#!/bin/sh\necho "$@" > '${mark}'\nexec '${process.execPath}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const saved = { node: process.env.BENCH_GATEWAY_NODE, simFlags: process.env.BENCH_SIM_NODE_FLAGS };
  process.env.BENCH_GATEWAY_NODE = wrapper;
  process.env.BENCH_SIM_NODE_FLAGS = '--max-semi-space-size=3';
  t.after(() => {
    for (const [key, value] of [['BENCH_GATEWAY_NODE', saved.node], ['BENCH_SIM_NODE_FLAGS', saved.simFlags]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const sim = await startSim({ runtime: 'tsx', workDir });
  t.after(() => sim.stop());
  assert.ok(readFileSync(`/proc/${sim.pid}/cmdline`, 'utf8').split('\0').includes('--max-semi-space-size=3'), 'the simulator runs with the flags');
  const gw = await startGateway({ runtime: 'tsx', workDir, label: 'overrides', sim, observability: 'off' });
  t.after(() => gw.stop());
  assert.ok(existsSync(mark), 'the gateway was started through BENCH_GATEWAY_NODE');
  assert.match(readFileSync(mark, 'utf8'), /src\/server\.ts/);
  assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);

  rmSync(mark);
  const relay = await startBareRelay(sim.grpcAddress, tritonModel);
  t.after(() => relay.stop());
  assert.ok(existsSync(mark), 'the bare relay was started through BENCH_GATEWAY_NODE');
  assert.match(readFileSync(mark, 'utf8'), /bare-relay-process\.ts/);

  const machine = machineInfo();
  assert.equal(machine.gatewayNode, process.version, 'the version of the program BENCH_GATEWAY_NODE names');
  assert.ok(machineLine(machine).includes(`the gateway and the bare relay on Node ${process.version}, BENCH_GATEWAY_NODE`));
  delete process.env.BENCH_GATEWAY_NODE;
  assert.equal(machineInfo().gatewayNode, undefined);
});
