/**
 * A non-streamed request's metric updates in isolation: the same 17 updates, with the same label
 * sets, through prom-client's own Counter and Histogram and through the gateway's
 * (src/telemetry/labelled-series.ts), each in its own registry, in alternating rounds.
 *
 *   npx tsx bench/metric-updates.ts [--requests 200000] [--rounds 5]
 *
 * Prints µs per request for each side and round. A tight loop in one process: what a label set's
 * lookup costs at its cheapest, not what it costs inside the gateway (bench/instructions.ts).
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { LabelledCounter, LabelledHistogram } from '../src/telemetry/labelled-series.js';
import { parseCommandLine, refuseOption } from './lib/command-line.js';

const usage = 'usage: tsx bench/metric-updates.ts [--requests N] [--rounds N]';
const { values } = parseCommandLine({ options: { requests: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } }, usage);
const requests = Number(values.requests);
const rounds = Number(values.rounds);
for (const [name, n] of Object.entries({ requests, rounds })) {
  if (!(n > 0) || !Number.isInteger(n)) refuseOption(`--${name} expects a positive whole number`, usage);
}

type Histo = { observe(labels: Record<string, string>, value: number): void };
type Count = { inc(labels: Record<string, string>, value?: number): void };
interface Kinds {
  histogram(name: string, labelNames: string[]): Histo;
  counter(name: string, labelNames: string[]): Count;
}

const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const registers = (): Registry[] => [new Registry()];
const promClient: Kinds = {
  histogram: (name, labelNames) => new Histogram({ name, help: name, labelNames, buckets, registers: registers() }),
  counter: (name, labelNames) => new Counter({ name, help: name, labelNames, registers: registers() }),
};
const labelled: Kinds = {
  histogram: (name, labelNames) => new LabelledHistogram({ name, help: name, labelNames, buckets, registers: registers() }),
  counter: (name, labelNames) => new LabelledCounter({ name, help: name, labelNames, registers: registers() }),
};

/** The updates RequestObserver.finish and the observability plugin make for one answered request. */
function requestUpdates(kinds: Kinds): () => void {
  const model = 'llama-3-8b';
  const op = 'text_completion';
  const byModel = ['model_name'];
  const genAi = ['gen_ai_operation_name', 'gen_ai_request_model'];
  const h = {
    inference: kinds.histogram('model_inference_duration_seconds', byModel),
    overhead: kinds.histogram('gateway_overhead_seconds', ['endpoint']),
    ttft: kinds.histogram('time_to_first_token_seconds', ['model_name', 'stream']),
    genAiTtft: kinds.histogram('gen_ai_server_time_to_first_token_seconds', genAi),
    genAiDuration: kinds.histogram('gen_ai_client_operation_duration_seconds', [...genAi, 'gen_ai_response_model', 'error_type']),
    tokenUsage: kinds.histogram('gen_ai_client_token_usage', [...genAi, 'gen_ai_token_type']),
    cost: kinds.histogram('request_cost_usd', byModel),
    queueDelay: kinds.histogram('triton_queue_delay_seconds', byModel),
    engineTtft: kinds.histogram('engine_time_to_first_token_seconds', byModel),
    duration: kinds.histogram('request_duration_seconds', ['endpoint']),
  };
  const c = {
    generated: kinds.counter('tokens_generated_total', byModel),
    input: kinds.counter('tokens_input_total', byModel),
    costUsd: kinds.counter('cost_usd_total', byModel),
    kvReused: kinds.counter('kv_cache_reused_blocks_total', byModel),
    kvTotal: kinds.counter('kv_cache_total_blocks_total', byModel),
    http: kinds.counter('http_requests_total', ['method', 'endpoint', 'status']),
  };
  return () => {
    h.inference.observe({ model_name: model }, 0.002);
    h.overhead.observe({ endpoint: '/v1/completions' }, 0.0004);
    h.ttft.observe({ model_name: model, stream: 'false' }, 0.003);
    h.genAiTtft.observe({ gen_ai_operation_name: op, gen_ai_request_model: model }, 0.003);
    h.genAiDuration.observe({ gen_ai_operation_name: op, gen_ai_request_model: model, gen_ai_response_model: model, error_type: '' }, 0.003);
    c.generated.inc({ model_name: model }, 16);
    c.input.inc({ model_name: model }, 8);
    h.tokenUsage.observe({ gen_ai_operation_name: op, gen_ai_request_model: model, gen_ai_token_type: 'input' }, 8);
    h.tokenUsage.observe({ gen_ai_operation_name: op, gen_ai_request_model: model, gen_ai_token_type: 'output' }, 16);
    c.costUsd.inc({ model_name: model }, 0.00002);
    h.cost.observe({ model_name: model }, 0.00002);
    h.queueDelay.observe({ model_name: model }, 0.0001);
    h.engineTtft.observe({ model_name: model }, 0.001);
    c.kvReused.inc({ model_name: model }, 1);
    c.kvTotal.inc({ model_name: model }, 2);
    c.http.inc({ method: 'POST', endpoint: '/v1/completions', status: String(200) });
    h.duration.observe({ endpoint: '/v1/completions' }, 0.003);
  };
}

const sides = [
  { name: "prom-client's Counter and Histogram", run: requestUpdates(promClient) },
  { name: 'labelled-series.ts', run: requestUpdates(labelled) },
];
for (let round = 1; round <= rounds; round++) {
  for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < requests; i++) side.run();
    const us = Number(process.hrtime.bigint() - started) / requests / 1000;
    process.stdout.write(`round ${round}: ${side.name}: ${us.toFixed(2)} µs per request (17 updates)\n`);
  }
}
