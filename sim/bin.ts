#!/usr/bin/env node
/**
 * triton-sim: the Triton simulator as a process. Prints one "ready" line with its addresses and
 * stops cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import type { FaultSpec, LatencyConfig } from './types.js';

const HELP = `triton-sim: a Triton Inference Server stand-in that speaks Triton's gRPC protocol

Usage: triton-sim [options]

  --host HOST                   address to listen on (default 127.0.0.1)
  --grpc-port N                 gRPC port, GRPCInferenceService + grpc.health.v1 (default 8001; 0 = any free port)
  --http-port N                 HTTP port: /v2/health/*, /v2/models/{m}/generate[_stream], /control/* (default 8000)
  --metrics-port N              Prometheus metrics port, served at /metrics (default 8002)
  --models FILE                 YAML file with models (and optionally latency, gpus, seed); see sim/README.md.
                                Without it: llama-3-8b-trtllm, llama-3-8b-bls, qwen3-vllm, tiny-identity,
                                llama-3-8b-llmapi with zero latency
  --seed N                      default sampling seed and base of every other PRNG (default 0)
  --queue-delay-ms MS           latency: fixed queueing time per request
  --ttft-ms MS                  latency: time to first token
  --prefill-ms-per-token MS     latency: extra first-token time per uncached prompt token
  --tpot-ms MS                  latency: time per output token after the first
  --fault MODEL=JSON            set a fault at start-up, repeatable, e.g.
                                --fault 'qwen3-vllm={"kind":"error","code":"UNAVAILABLE","message":"down","firstN":2}'
  --log-requests                one line per request on stderr
  -h, --help                    show this help

Latency flags override the file's global latency; a model's own latency in the file wins over both.
At run time: POST /control/faults/MODEL, DELETE /control/faults[/MODEL], GET /control/requests,
GET /control/state, POST /control/reset, POST /control/ready {"ready":false}.`;

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} expects a non-negative number, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      'grpc-port': { type: 'string' },
      'http-port': { type: 'string' },
      'metrics-port': { type: 'string' },
      models: { type: 'string' },
      seed: { type: 'string' },
      'queue-delay-ms': { type: 'string' },
      'ttft-ms': { type: 'string' },
      'prefill-ms-per-token': { type: 'string' },
      'tpot-ms': { type: 'string' },
      fault: { type: 'string', multiple: true },
      'log-requests': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const latency: Partial<LatencyConfig> = {};
  const set = (key: keyof LatencyConfig, flag: string) => {
    const n = number(flag, values[flag as 'ttft-ms']);
    if (n !== undefined) latency[key] = n;
  };
  set('queueDelayMs', 'queue-delay-ms');
  set('timeToFirstTokenMs', 'ttft-ms');
  set('prefillMsPerToken', 'prefill-ms-per-token');
  set('timePerTokenMs', 'tpot-ms');
  const faults: Array<[string, FaultSpec]> = (values.fault ?? []).map((arg) => {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new Error(`--fault expects MODEL=JSON, got ${JSON.stringify(arg)}`);
    try {
      return [arg.slice(0, eq), JSON.parse(arg.slice(eq + 1)) as FaultSpec];
    } catch (err) {
      throw new Error(`--fault ${arg.slice(0, eq)}: ${(err as Error).message}`);
    }
  });

  // Imported late so --help answers without loading gRPC.
  const { startSimulator } = await import('./start.js');
  const sim = await startSimulator({
    host: values.host ?? '127.0.0.1',
    grpcPort: number('grpc-port', values['grpc-port']) ?? 8001,
    httpPort: number('http-port', values['http-port']) ?? 8000,
    metricsPort: number('metrics-port', values['metrics-port']) ?? 8002,
    modelsFile: values.models,
    seed: number('seed', values.seed),
    latency,
    logRequests: values['log-requests'] ?? false,
  });
  try {
    for (const [model, fault] of faults) sim.setFault(model, fault);
  } catch (err) {
    await sim.stop();
    throw err;
  }
  process.stdout.write(`triton-sim ready grpc=${sim.grpcAddress} http=${sim.httpUrl} metrics=${sim.metricsUrl}\n`);
  process.stderr.write(`triton-sim models: ${Object.keys(sim.state().models).join(', ')}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`triton-sim: ${signal}, stopping\n`);
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`triton-sim: ${(err as Error).message}\n`);
  process.exit(2);
});
