/**
 * What the inference core needs from one Triton target. src/app.ts adapts the gRPC
 * TritonClient to this, so the core never imports gRPC and can be read on its own.
 */
import type { GenerationDelta, GenerationRequest, InferOptions, ModelSchema } from '../triton/types.js';

export interface Upstream {
  readonly name: string;
  infer(schema: ModelSchema, request: GenerationRequest, options: InferOptions): AsyncGenerator<GenerationDelta>;
  serverReady(): Promise<boolean>;
  modelReady(model: string, version?: string): Promise<boolean>;
  describeModel(model: string, version?: string): Promise<ModelSchema>;
  listLlmModels(): Promise<ModelSchema[]>;
  /**
   * Repository control (explicit model-control mode only), for rollbacks: RepositoryModelLoad with
   * an optional ModelConfig JSON override. Optional so test doubles and read-only targets can omit it.
   */
  loadModel?(model: string, options?: { config?: object }): Promise<void>;
  unloadModel?(model: string): Promise<void>;
  close(): void;
}
