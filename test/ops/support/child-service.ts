/**
 * A server binary (Prometheus, Alertmanager) run as a child process for one test: started on a
 * loopback address, awaited until its readiness endpoint answers, and stopped with SIGTERM (then
 * SIGKILL) so its temporary storage can be removed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildService {
  /** Base URL, `http://127.0.0.1:PORT`. */
  url: string;
  /** Everything the process wrote so far (both streams), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface ChildServiceOptions {
  /** The base URL when the port is chosen up front. */
  url?: string;
  /** Otherwise: reads `host:port` (first capture group) from the process's log. */
  listenPattern?: RegExp;
  /** Answers 200 once the service is ready, e.g. `/-/ready`. */
  readyPath: string;
  timeoutMs?: number;
}

export async function startChildService(name: string, bin: string, args: readonly string[], options: ChildServiceOptions): Promise<ChildService> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const service: ChildService = { url: options.url ?? '', log: () => output, stop: () => stopChild(child) };
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`${name} failed to start: ${err.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
  exited.catch(() => undefined);
  try {
    await Promise.race([exited, waitReady(name, service, options, () => output)]);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return service;
}

async function waitReady(name: string, service: ChildService, options: ChildServiceOptions, output: () => string): Promise<void> {
  const until = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < until) {
    if (!service.url && options.listenPattern) {
      const m = options.listenPattern.exec(output());
      if (m) service.url = `http://${m[1]}`;
    }
    if (service.url) {
      const res = await fetch(`${service.url}${options.readyPath}`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      if (res?.status === 200) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} not ready after ${options.timeoutMs ?? 15_000} ms:\n${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  // Both flush their storage on SIGTERM; a stuck one is killed so the test still ends.
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
