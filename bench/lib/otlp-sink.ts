/**
 * A local OTLP/HTTP receiver for the gateway's spans: it answers every export with 200 and
 * counts what arrived, so "tracing on" really exports and the benchmark can show it did.
 *
 * The receiver runs as a child process (`bench/otlp-sink-process.ts`, through tsx): at ~1,000
 * spans/s, receiving them in the load generator would take the driver's CPU and delay its
 * timers while it measures the gateway. The counts are read over HTTP (`GET /stats`).
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnNodeUntilReady, stopChild } from './processes.js';

export interface OtlpSinkStats {
  exports: number;
  bytes: number;
  spans: number;
}

export interface OtlpSink {
  /** Where the gateway exports to (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). */
  endpoint: string;
  /** The receiver's process, so its CPU can be read from /proc. */
  pid: number;
  child: ChildProcess;
  /** What has arrived so far, from the receiver's `GET /stats`. */
  stats(): Promise<OtlpSinkStats>;
  stderrTail(): string;
  /** Stops the receiver (SIGTERM, then SIGKILL after a while) and waits for it to exit. */
  close(): Promise<void>;
}

const program = fileURLToPath(new URL('../otlp-sink-process.ts', import.meta.url));

export async function startOtlpSink(): Promise<OtlpSink> {
  // stdin is a pipe the child watches: if this process dies without close(), the receiver exits too.
  const { child, fields, stderrTail } = await spawnNodeUntilReady(['--import', 'tsx', program, '--exit-with-stdin'], 'OTLP receiver', ['endpoint', 'stats'], { stdin: 'pipe' });
  const { endpoint, stats: statsUrl } = fields;
  return {
    endpoint: endpoint!,
    pid: child.pid!,
    child,
    stderrTail,
    stats: async () => {
      const res = await fetch(statsUrl!).catch((err: unknown) => {
        throw new Error(`OTLP receiver (pid ${child.pid}) did not answer /stats: ${(err as Error).message}\n${stderrTail()}`);
      });
      if (res.status !== 200) throw new Error(`OTLP receiver /stats answered ${res.status}`);
      return (await res.json()) as OtlpSinkStats;
    },
    close: () => stopChild(child, 5_000),
  };
}
