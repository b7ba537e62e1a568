/**
 * The machine's speed over the benchmark, from `bench/speed-probe-process.ts`: a fixed workload's
 * CPU nanoseconds per operation, sampled every 250 ms in a child process of its own. Each phase
 * takes the samples that fall inside it, so a table can show how fast the host let this VM run
 * while a figure was measured (on this machine the same code ran 1.3–2.3× slower at some moments
 * than at others, and the gateway's CPU per request followed it).
 */
import { fileURLToPath } from 'node:url';
import { median } from './percentiles.js';
import { spawnNodeUntilReady, stopChild } from './processes.js';

export interface SpeedSample {
  /** Epoch milliseconds at the end of the sample. */
  at: number;
  nsPerOp: number;
}

export interface MachineSpeed {
  /** Median ns per operation of the samples in the window; lower is faster. */
  nsPerOp: number;
  min: number;
  max: number;
  samples: number;
}

export interface SpeedWindow {
  /** The window's summary; undefined when no sample fell inside it. */
  stop(): MachineSpeed | undefined;
}

export interface SpeedProbe {
  pid: number;
  /** Starts a window now; its stop() summarises the samples taken since. */
  window(): SpeedWindow;
  /** Every sample since the probe started. */
  all(): MachineSpeed | undefined;
  close(): Promise<void>;
}

/** The samples taken within [from, to] (epoch ms), summarised. */
export function summarizeSpeed(samples: readonly SpeedSample[], from = -Infinity, to = Infinity): MachineSpeed | undefined {
  const inside = samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.nsPerOp);
  if (inside.length === 0) return undefined;
  return { nsPerOp: median(inside), min: Math.min(...inside), max: Math.max(...inside), samples: inside.length };
}

/** One sample line of the probe (`<epoch ms> <ns per op>`), or undefined for anything else. */
export function parseSpeedLine(line: string): SpeedSample | undefined {
  const match = /^(\d+) (\d+(?:\.\d+)?)$/.exec(line.trim());
  if (!match) return undefined;
  return { at: Number(match[1]), nsPerOp: Number(match[2]) };
}

const program = fileURLToPath(new URL('../speed-probe-process.ts', import.meta.url));

export async function startSpeedProbe(opts: { everyMs?: number } = {}): Promise<SpeedProbe> {
  const samples: SpeedSample[] = [];
  const { child } = await spawnNodeUntilReady(
    ['--import', 'tsx', program, '--exit-with-stdin', '--every-ms', String(opts.everyMs ?? 250)],
    'speed probe',
    ['every_ms'],
    {
      stdin: 'pipe',
      onLine: (line) => {
        const sample = parseSpeedLine(line);
        if (sample) samples.push(sample);
      },
    },
  );
  return {
    pid: child.pid!,
    window() {
      const from = Date.now();
      return { stop: () => summarizeSpeed(samples, from, Date.now()) };
    },
    all: () => summarizeSpeed(samples),
    close: () => stopChild(child, 5_000),
  };
}
