/**
 * The model set served when no models are given: one model of each flavour, no latency, no
 * faults. examples/sim-models/default.yaml is the same set with demo latencies.
 */
import type { SimModelConfig } from '../types.js';

export function defaultModels(): SimModelConfig[] {
  return [
    {
      name: 'llama-3-8b-trtllm',
      flavour: 'ensemble',
      maxBatchSize: 64,
      parameters: { engine_hash: 'sha256:7c1e2a9b44d0', quantisation: 'fp8', gpt_model_type: 'inflight_fused_batching', enable_kv_cache_reuse: 'true' },
      speculative: { draftTokens: 4, acceptanceRate: 0.7 },
      weightsBytes: 9 * 1024 ** 3,
    },
    {
      name: 'llama-3-8b-bls',
      flavour: 'tensorrt_llm_bls',
      maxBatchSize: 64,
      parameters: { engine_hash: 'sha256:7c1e2a9b44d0', quantisation: 'fp8' },
      // Calls the same tensorrt_llm engine as the ensemble: no weights of its own.
      weightsBytes: 0,
    },
    {
      name: 'qwen3-vllm',
      flavour: 'vllm',
      parameters: { engine_hash: 'sha256:3f9d0c615e72', quantisation: 'awq' },
      weightsBytes: 17 * 1024 ** 3,
    },
    { name: 'tiny-identity', flavour: 'identity' },
    {
      name: 'llama-3-8b-llmapi',
      flavour: 'llmapi',
      parameters: { engine_hash: 'sha256:a51be08e93c4', quantisation: 'bf16' },
      weightsBytes: 16 * 1024 ** 3,
    },
  ];
}
