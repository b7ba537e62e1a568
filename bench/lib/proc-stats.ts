/**
 * CPU time and resident memory of another process, read from /proc (Linux), so the gateway's
 * cost can be measured from outside without a native dependency.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds in a /proc `stat` line (a process's or one thread's). */
function statCpuSeconds(stat: string): number {
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * User + system CPU seconds each of the process's threads has used so far, by thread id (the
 * main thread's id is the pid). A thread that ended between listing and reading is left out.
 */
export function threadCpuSeconds(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.set(Number(tid), statCpuSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // gone
    }
  }
  return threads;
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

export interface CpuWindow {
  /** Stops the window: CPU seconds used per wall second (1.0 = one core busy) and in total. */
  stop(): { cores: number; cpuSeconds: number; wallSeconds: number };
}

export function startCpuWindow(pid: number): CpuWindow {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  return {
    stop() {
      const used = cpuSeconds(pid) - cpu0;
      const wall = (performance.now() - t0) / 1000;
      return { cores: wall > 0 ? used / wall : 0, cpuSeconds: used, wallSeconds: wall };
    },
  };
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  /** The version BENCH_GATEWAY_NODE runs the gateway (and the bare relay) on, when it is set. */
  gatewayNode?: string;
  platform: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  const gatewayNode = process.env.BENCH_GATEWAY_NODE;
  return {
    ...(gatewayNode ? { gatewayNode: execFileSync(gatewayNode, ['--version'], { encoding: 'utf8' }).trim() } : {}),
    cpuModel: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
