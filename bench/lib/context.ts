/**
 * What every scenario gets from the runner: the options, where to put files, a progress logger
 * with timestamps, and the processes shared between scenarios (started on first use).
 */
import type { Runtime } from './processes.js';

export interface BenchOptions {
  quick: boolean;
  runtime: Runtime;
  /** `node --cpu-prof` on every gateway child; profiles are summarised when it stops. */
  cpuProf: boolean;
  /** Scenario 1's arrival rates instead of the defaults. */
  rates?: number[];
  /** Runtime dist: the gateway's build directory when not dist/ (before/after comparisons). */
  gatewayDist?: string;
}

export interface BenchContext extends BenchOptions {
  workDir: string;
  resultsDir: string;
  log(line: string): void;
}

export function progressLogger(started = performance.now()): (line: string) => void {
  return (line) => {
    const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${s}s] ${line}\n`);
  };
}

export function ms(value: number | undefined, digits = 2): string {
  return value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
}
