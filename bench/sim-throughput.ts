/**
 * The simulator's own throughput with zero latency, measured with a direct gRPC client so that
 * gateway benchmarks can be sure they measure the gateway. The simulator runs in its own process
 * (as it does for the gateway benchmarks); this process is the client.
 *
 *   npx tsx bench/sim-throughput.ts [--seconds 2.5]   (seconds per phase; about 10 s in all)
 *
 * Phases: non-streamed requests over ModelStreamInfer, one stream per request, 64 in flight;
 * streamed generation, 200 concurrent streams x 128 tokens; unary ModelInfer on the identity
 * model, 64 in flight. Prints a table and one JSON line with the numbers.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  GRPCInferenceServiceClient,
  type ModelInferRequest,
  type ModelStreamInferResponse,
} from '../src/triton/generated/grpc_service.js';
import { encodeBytesTensor } from '../src/triton/bytes-tensor.js';
import { parseCommandLine } from './lib/command-line.js';
import { percentileOfSorted } from './lib/percentiles.js';

const { values } = parseCommandLine({ options: { seconds: { type: 'string', default: '2.5' } } }, 'usage: tsx bench/sim-throughput.ts [--seconds N]');
const PHASE_MS = Math.max(0.5, Number(values.seconds)) * 1000;

function scalar(datatype: 'INT32' | 'BOOL', v: number): Buffer {
  if (datatype === 'BOOL') return Buffer.from([v]);
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

function generationRequest(id: string, prompt: string, maxTokens: number, stream: boolean): ModelInferRequest {
  const t = (name: string, datatype: string) => ({ name, datatype, shape: [1, 1], parameters: {}, contents: undefined });
  return {
    modelName: 'llama-3-8b-trtllm',
    modelVersion: '',
    id,
    parameters: { triton_enable_empty_final_response: { boolParam: true } },
    inputs: [t('text_input', 'BYTES'), t('max_tokens', 'INT32'), t('stream', 'BOOL'), t('exclude_input_in_output', 'BOOL'), t('return_num_output_tokens', 'BOOL')],
    outputs: [],
    rawInputContents: [encodeBytesTensor([prompt]), scalar('INT32', maxTokens), scalar('BOOL', stream ? 1 : 0), scalar('BOOL', 1), scalar('BOOL', 1)],
  };
}

/** One ModelStreamInfer call for one request; resolves with the number of data responses. */
function oneStream(client: GRPCInferenceServiceClient, req: ModelInferRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = client.modelStreamInfer(new Metadata());
    let data = 0;
    call.on('data', (r: ModelStreamInferResponse) => {
      if (r.errorMessage !== '') reject(new Error(r.errorMessage));
      else if ((r.inferResponse?.outputs.length ?? 0) > 0) data++;
    });
    call.on('error', reject);
    call.on('end', () => resolve(data));
    call.write(req);
    call.end();
  });
}

interface PhaseResult {
  requests: number;
  tokens: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

/** Keeps `concurrency` operations in flight until the phase time is up. */
async function closedLoop(concurrency: number, op: (i: number) => Promise<number>, durationMs = PHASE_MS): Promise<PhaseResult> {
  const latencies: number[] = [];
  let tokens = 0;
  let n = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const produced = await op(n++);
      tokens += produced;
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  // The same nearest-rank percentile as every other bench table.
  return { requests: latencies.length, tokens, seconds, p50Ms: percentileOfSorted(latencies, 0.5), p99Ms: percentileOfSorted(latencies, 0.99) };
}

async function startSimProcess(): Promise<{ address: string; stop: () => Promise<void> }> {
  const bin = fileURLToPath(new URL('../sim/bin.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', bin, '--grpc-port', '0', '--http-port', '0', '--metrics-port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('triton-sim exited before it was ready');
    }),
  ])) as [string];
  const address = /grpc=(\S+)/.exec(line)?.[1];
  if (address === undefined) throw new Error(`unexpected ready line: ${line}`);
  return {
    address,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function main(): Promise<void> {
  const sim = await startSimProcess();
  const client = new GRPCInferenceServiceClient(sim.address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  try {
    // Warm-up: JIT both processes and open the channel.
    await closedLoop(16, (i) => oneStream(client, generationRequest(`w${i}`, 'warm up the simulator', 16, true)), 1000);

    const nonStreamed = await closedLoop(64, (i) =>
      oneStream(client, generationRequest(`n${i}`, `Explain request ${i % 50} in one line`, 16, false)).then(() => 0),
    );
    const streamed = await closedLoop(200, (i) => oneStream(client, generationRequest(`s${i}`, `Tell a long story number ${i % 50}`, 128, true)));
    const identityReq = (id: string): ModelInferRequest => ({
      modelName: 'tiny-identity',
      modelVersion: '',
      id,
      parameters: {},
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], parameters: {}, contents: undefined }],
      outputs: [],
      rawInputContents: [encodeBytesTensor(['ping'])],
    });
    const unaryCalls = await closedLoop(
      64,
      (i) =>
        new Promise<number>((resolve, reject) =>
          client.modelInfer(identityReq(`u${i}`), (err) => (err ? reject(err) : resolve(0))),
        ),
    );

    const rows = [
      ['non-streamed, stream per request, 64 in flight', `${(nonStreamed.requests / nonStreamed.seconds).toFixed(0)} req/s`, nonStreamed],
      ['streamed, 200 streams x 128 tokens', `${(streamed.tokens / streamed.seconds).toFixed(0)} tokens/s`, streamed],
      ['unary ModelInfer (identity), 64 in flight', `${(unaryCalls.requests / unaryCalls.seconds).toFixed(0)} req/s`, unaryCalls],
    ] as const;
    console.log('\ntriton-sim throughput (zero latency, simulator in its own process)\n');
    console.log(`${'phase'.padEnd(50)} ${'rate'.padStart(16)} ${'requests'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
    for (const [name, rate, r] of rows) {
      console.log(`${name.padEnd(50)} ${rate.padStart(16)} ${String(r.requests).padStart(9)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)}`);
    }
    console.log(
      `\n${JSON.stringify({
        nonStreamedRequestsPerSecond: Math.round(nonStreamed.requests / nonStreamed.seconds),
        streamedTokensPerSecond: Math.round(streamed.tokens / streamed.seconds),
        streamedRequestsPerSecond: Math.round(streamed.requests / streamed.seconds),
        unaryRequestsPerSecond: Math.round(unaryCalls.requests / unaryCalls.seconds),
      })}`,
    );
  } finally {
    client.close();
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
