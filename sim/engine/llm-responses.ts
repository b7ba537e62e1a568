/**
 * The output tensors of each generation response, per flavour:
 * TRT-LLM (ensemble, BLS): every tensor has a leading batch dim ([1,1]); num_input_tokens on
 * the first response only; perf metrics on the last data response.
 * vLLM: no batch dim; finish_reason is "None" until the last response; num_input_tokens (a 0-d
 * UINT32, as the backend builds it) on every response; num_output_tokens UINT32 per response.
 * LLM-API: finish_reason/stop_reason and the perf outputs with its own (singular) KV names.
 */
import type { SimFlavour } from '../types.js';
import type { GenerationPlan } from '../text/generator.js';
import type { LlmRequest } from './llm-request.js';
import { bytesRaw, fp32Raw, int32Raw, int64Raw, uint32Raw, type OutputTensor } from './output-tensor.js';

export interface PerfNumbers {
  arrivalNs: bigint;
  scheduledNs: bigint;
  firstTokenNs: bigint;
  lastTokenNs: bigint;
  kvReusedBlocks: number;
  kvNewBlocks: number;
  kvTotalBlocks: number;
  /** Prompt blocks that were not in the cache (LLM-API kv_cache_missed_block). */
  kvMissedBlocks: number;
  draftTokens: number;
  acceptedDraftTokens: number;
}

const B11 = [1, 1];
const B1 = [1];
const SCALAR: number[] = [];
const ONE_I32 = int32Raw(1);
const ONE_U32 = uint32Raw(1);
const NONE = bytesRaw('None');

export class LlmResponseBuilder {
  private readonly batched: boolean;

  constructor(
    private readonly flavour: SimFlavour,
    private readonly req: LlmRequest,
    private readonly plan: GenerationPlan,
  ) {
    this.batched = flavour !== 'vllm';
  }

  /** Outputs of streamed response `i` (one per generated token); `last` adds the end-of-request outputs. */
  streamed(i: number, last: boolean, perf: PerfNumbers | undefined): OutputTensor[] {
    const out: OutputTensor[] = [this.text(this.plan.tokenTexts[i]!)];
    this.addCounts(out, i === 0, this.flavour === 'vllm' ? ONE_U32 : ONE_I32);
    this.addEnd(out, last, perf);
    return out;
  }

  /** The single response of a non-streamed request. */
  whole(perf: PerfNumbers | undefined): OutputTensor[] {
    const text = this.req.echo ? this.req.prompt + this.plan.text : this.plan.text;
    const out: OutputTensor[] = [this.text(text)];
    let n = this.plan.tokenTexts.length;
    if (this.req.echoCountsPrompt) n += this.plan.promptTokens;
    this.addCounts(out, true, this.flavour === 'vllm' ? uint32Raw(n) : int32Raw(n));
    this.addEnd(out, true, perf);
    return out;
  }

  private text(s: string): OutputTensor {
    return { name: 'text_output', datatype: 'BYTES', shape: this.batched ? B11 : B1, raw: bytesRaw(s) };
  }

  private addCounts(out: OutputTensor[], first: boolean, outputCount: Buffer): void {
    const r = this.req.returns;
    if (this.flavour === 'vllm') {
      if (r.numInputTokens) out.push({ name: 'num_input_tokens', datatype: 'UINT32', shape: SCALAR, raw: uint32Raw(this.plan.promptTokens) });
      if (r.numOutputTokens) out.push({ name: 'num_output_tokens', datatype: 'UINT32', shape: B1, raw: outputCount });
      return;
    }
    if (r.numInputTokens && first) out.push({ name: 'num_input_tokens', datatype: 'INT32', shape: B11, raw: int32Raw(this.plan.promptTokens) });
    if (r.numOutputTokens) out.push({ name: 'num_output_tokens', datatype: 'INT32', shape: B11, raw: outputCount });
  }

  private addEnd(out: OutputTensor[], last: boolean, perf: PerfNumbers | undefined): void {
    const r = this.req.returns;
    const shape = this.batched ? B11 : B1;
    if (r.finishReason) out.push({ name: 'finish_reason', datatype: 'BYTES', shape, raw: last ? bytesRaw(this.plan.finishReason) : NONE });
    if (r.stopReason) {
      const reason = last && this.plan.matchedStop !== undefined ? bytesRaw(this.plan.matchedStop) : NONE;
      out.push({ name: 'stop_reason', datatype: 'BYTES', shape, raw: reason });
    }
    if (r.cumulativeLogprob) out.push({ name: 'cumulative_logprob', datatype: 'FP32', shape, raw: fp32Raw(-0.25 * this.plan.tokenTexts.length) });
    if (r.logprobs) out.push({ name: 'logprobs', datatype: 'BYTES', shape, raw: bytesRaw('null') });
    if (last && r.perfMetrics && perf !== undefined) this.addPerf(out, perf);
  }

  private addPerf(out: OutputTensor[], p: PerfNumbers): void {
    const i32 = (name: string, n: number) => out.push({ name, datatype: 'INT32', shape: B11, raw: int32Raw(n) });
    const i64 = (name: string, n: bigint) => out.push({ name, datatype: 'INT64', shape: B11, raw: int64Raw(n) });
    const f32 = (name: string, n: number) => out.push({ name, datatype: 'FP32', shape: B11, raw: fp32Raw(n) });
    if (this.flavour === 'llmapi') {
      i32('kv_cache_reused_block', p.kvReusedBlocks);
      i32('kv_cache_missed_block', p.kvMissedBlocks);
      i32('kv_cache_alloc_new_blocks', p.kvNewBlocks);
      i32('kv_cache_alloc_total_blocks', p.kvTotalBlocks);
      const seen = p.kvReusedBlocks + p.kvMissedBlocks;
      f32('kv_cache_hit_rate', seen > 0 ? p.kvReusedBlocks / seen : 0);
    } else {
      i32('kv_cache_alloc_new_blocks', p.kvNewBlocks);
      i32('kv_cache_reused_blocks', p.kvReusedBlocks);
      i32('kv_cache_alloc_total_blocks', p.kvTotalBlocks);
    }
    i64('arrival_time_ns', p.arrivalNs);
    i64('first_scheduled_time_ns', p.scheduledNs);
    i64('first_token_time_ns', p.firstTokenNs);
    i64('last_token_time_ns', p.lastTokenNs);
    f32('acceptance_rate', p.draftTokens > 0 ? p.acceptedDraftTokens / p.draftTokens : 0);
    i32('total_accepted_draft_tokens', p.acceptedDraftTokens);
    i32('total_draft_tokens', p.draftTokens);
  }
}

/** Keeps only the outputs a request listed (all when it listed none), in the order produced. */
export function filterRequested(outputs: OutputTensor[], requested: Set<string>): OutputTensor[] {
  return requested.size === 0 ? outputs : outputs.filter((o) => requested.has(o.name));
}
