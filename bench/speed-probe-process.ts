/**
 * How fast this machine runs right now: a fixed piece of JavaScript (object reads, string
 * lengths, a small JSON.stringify, the gateway's kind of work) timed by its own CPU time, every
 * `--every-ms`. On a VM the host can give a vCPU less than a core without the guest seeing any
 * steal time: the same code then simply takes longer, and so does every request the gateway
 * serves (bench/HISTORY.md, the machine's own speed). CPU time, not wall time, so waiting for a
 * core inside the VM does not count: what is left is the speed the host gives a running vCPU.
 * `lib/speed-probe.ts` starts it for the benchmark; by hand:
 *
 *   npx tsx bench/speed-probe-process.ts [--every-ms 250]
 *
 * Prints `speed-probe ready every_ms=<n> ops=<n>`, then one line per sample: `<epoch ms> <ns per op>`.
 * Exits on SIGTERM or SIGINT, and with `--exit-with-stdin` when its stdin closes.
 */
import { parseCommandLine, refuseOption } from './lib/command-line.js';

const usage = 'usage: tsx bench/speed-probe-process.ts [--every-ms N ≥ 10] [--exit-with-stdin]';
const { values } = parseCommandLine({ options: { 'every-ms': { type: 'string', default: '250' }, 'exit-with-stdin': { type: 'boolean', default: false } } }, usage);
const everyMs = Number(values['every-ms']);
if (!(everyMs >= 10)) refuseOption('--every-ms expects a number of at least 10', usage);

/** ~1 ms of CPU on a quiet host: long enough for process.cpuUsage()'s microseconds, short enough to leave the cores to the benchmark. */
const OPS = 100_000;
const records = Array.from({ length: 4096 }, (_, i) => ({ id: i, name: `record-${i}` }));

function workload(ops: number): number {
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const r = records[(i * 7) & 4095]!;
    sum += r.id + r.name.length;
    if ((i & 63) === 0) sum += JSON.stringify(r).length;
  }
  return sum;
}

// Optimised before the first sample counts.
let sink = 0;
for (let i = 0; i < 30; i++) sink += workload(OPS);

function sample(): void {
  const before = process.cpuUsage();
  sink += workload(OPS);
  const used = process.cpuUsage(before);
  const nsPerOp = ((used.user + used.system) * 1000) / OPS;
  process.stdout.write(`${Date.now()} ${nsPerOp.toFixed(3)}\n`);
}

const timer = setInterval(sample, everyMs);
const stop = (): void => {
  clearInterval(timer);
  // The workload's result is read here so that no compiler may treat the loop as dead code.
  process.exit(sink === -1 ? 1 : 0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (values['exit-with-stdin']) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
process.stdout.write(`speed-probe ready every_ms=${everyMs} ops=${OPS}\n`);
