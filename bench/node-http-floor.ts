/**
 * What any Node HTTP server costs on this machine: a bare `node:http` server in its own process
 * answering a small JSON POST, driven open-loop from this one like scenario 1 drives the gateway.
 * Its CPU per request and p99 are the floor under the gateway's own HTTP side (bench/HISTORY.md,
 * why the failing budgets fail).
 *
 *   npx tsx bench/node-http-floor.ts [--seconds 4] [--rates 50,200,500,1000]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ms } from './lib/context.js';
import { runOpenLoop } from './lib/open-loop.js';
import { summarize } from './lib/percentiles.js';
import { cpuSeconds, machineInfo } from './lib/proc-stats.js';
import { table } from './lib/report.js';
import { parseCommandLine } from './lib/command-line.js';

if (process.argv.includes('--serve')) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
} else {
  const { values } = parseCommandLine({ options: { seconds: { type: 'string', default: '4' }, rates: { type: 'string', default: '50,200,500,1000' } } }, 'usage: tsx bench/node-http-floor.ts [--seconds N] [--rates 50,200,500,1000]');
  const durationMs = Number(values.seconds) * 1000;
  const rates = values.rates.split(',').map(Number);
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx'] });
  const [port] = (await once(child, 'message')) as [number];
  const agent = new Agent({ keepAlive: true, maxSockets: 2048 });
  const body = JSON.stringify({ model: 'm', prompt: 'hello', max_tokens: 16 });
  const send = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const rows: string[][] = [];
  const results: Array<Record<string, number>> = [];
  try {
    for (const rate of rates) {
      await runOpenLoop({ rate, durationMs: 500, send });
      const cpu0 = cpuSeconds(child.pid!);
      const started = performance.now();
      const run = await runOpenLoop({ rate, durationMs, send });
      const cpu = cpuSeconds(child.pid!) - cpu0;
      const cores = cpu / ((performance.now() - started) / 1000);
      const latency = summarize(run.latenciesMs);
      const usPerRequest = run.completed > 0 ? (cpu / run.completed) * 1e6 : Number.NaN;
      rows.push([String(rate), ms(latency.p50), ms(latency.p99), ms(cores), ms(usPerRequest, 0), String(run.errors + run.dropped)]);
      results.push({ rate, p50: latency.p50, p99: latency.p99, cores, usPerRequest, errors: run.errors + run.dropped });
      process.stderr.write(`${rate} req/s: p50 ${ms(latency.p50)} p99 ${ms(latency.p99)} ms, server ${ms(usPerRequest, 0)} µs/req\n`);
    }
  } finally {
    agent.destroy();
    child.kill();
  }
  const m = machineInfo();
  process.stdout.write(`bare node:http server, ${m.cores} × ${m.cpuModel}, Node ${m.node}, ${durationMs / 1000} s per rate\n\n`);
  process.stdout.write(`${table(['rate (req/s)', 'p50 (ms)', 'p99 (ms)', 'server CPU (cores)', 'server CPU/req (µs)', 'errors'], rows)}\n\n`);
  process.stdout.write(`${JSON.stringify({ machine: m, results })}\n`);
}
