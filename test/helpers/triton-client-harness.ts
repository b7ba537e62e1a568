/**
 * Shared by the triton-client-*.test.ts files: a simulator plus a TritonClient on loopback,
 * cleaned up after the file, and small readers for what infer() yields.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from '../../src/errors.js';
import { TritonClient, type TritonClientOptions } from '../../src/triton/client.js';
import { describeModel } from '../../src/triton/discovery.js';
import type { GenerationDelta, GenerationRequest, ModelSchema, PerfMetrics } from '../../src/triton/types.js';
import { startSimulator, type RunningSimulator, type StartSimulatorOptions } from '../../sim/index.js';

export interface Harness {
  sim: RunningSimulator;
  client: TritonClient;
  schema(name: string): Promise<ModelSchema>;
}

/** Starts a simulator and a client for the current test file; both stop after it. */
export async function startHarness(simOptions: StartSimulatorOptions = {}, clientOptions: Partial<TritonClientOptions> = {}): Promise<Harness> {
  const sim = await startSimulator(simOptions);
  const client = new TritonClient({ target: sim.grpcAddress, ...clientOptions });
  after(async () => {
    client.close();
    await sim.stop();
  });
  const schemas = new Map<string, Promise<ModelSchema>>();
  return {
    sim,
    client,
    schema(name) {
      let s = schemas.get(name);
      if (s === undefined) {
        s = describeModel(client, name);
        schemas.set(name, s);
      }
      return s;
    },
  };
}

export interface Collected {
  deltas: GenerationDelta[];
  text: string;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  finishReason: string | undefined;
  perf: PerfMetrics | undefined;
}

export async function collect(gen: AsyncGenerator<GenerationDelta>): Promise<Collected> {
  const out: Collected = { deltas: [], text: '', inputTokens: undefined, outputTokens: undefined, finishReason: undefined, perf: undefined };
  for await (const d of gen) {
    out.deltas.push(d);
    out.text += d.text;
    if (d.inputTokens !== undefined) out.inputTokens = d.inputTokens;
    if (d.outputTokens !== undefined) out.outputTokens = (out.outputTokens ?? 0) + d.outputTokens;
    if (d.finishReason !== undefined) out.finishReason = d.finishReason;
    if (d.perf !== undefined) out.perf = { ...out.perf, ...d.perf };
  }
  return out;
}

/** Awaits the promise and checks it rejected with a GatewayError of `code`; returns the error. */
export async function rejectsWith(p: Promise<unknown>, code: string): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a GatewayError ${code}, but it resolved`);
}

/** Polls until `check` passes (the simulator settles cancels asynchronously); bounded. */
export async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(10);
    }
  }
}

export const request = (over: Partial<GenerationRequest> = {}): GenerationRequest => ({
  prompt: 'Explain the theory of everything',
  maxTokens: 8,
  stream: true,
  echo: false,
  ...over,
});
