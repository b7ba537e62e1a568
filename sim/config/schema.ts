/**
 * zod schemas for everything the simulator reads from outside: the models YAML, faults posted to
 * /control/faults and --fault flags. Unknown keys are errors, so a typo never passes silently.
 */
import { z } from 'zod';
import { statusFromName } from '../protocol/sim-error.js';
import { isDatatype } from '../protocol/datatypes.js';

const nonNegative = z.number().min(0);
const count = z.number().int().min(0);
const statusName = z.string().refine((s) => statusFromName(s) !== undefined, { message: 'not a gRPC status code name (e.g. UNAVAILABLE)' });

const selector = {
  firstN: count.optional(),
  fraction: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
};

export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('error'), code: statusName, message: z.string(), afterTokens: count.optional(), ...selector }),
  z.strictObject({ kind: z.literal('hang'), ...selector }),
  z.strictObject({ kind: z.literal('slow-first-token'), ms: nonNegative, ...selector }),
  z.strictObject({ kind: z.literal('slow-tokens'), msPerToken: nonNegative, ...selector }),
  z.strictObject({
    kind: z.literal('cut'),
    afterTokens: count,
    code: z.union([z.literal('OK'), statusName]).optional(),
    message: z.string().optional(),
    ...selector,
  }),
  z.strictObject({ kind: z.literal('stall'), afterTokens: count, ...selector }),
  z.strictObject({
    kind: z.literal('malformed'),
    variant: z.enum(['truncated-length-prefix', 'missing-text-output', 'raw-count-mismatch']),
    ...selector,
  }),
  z.strictObject({ kind: z.literal('no-final'), ...selector }),
  z.strictObject({ kind: z.literal('queue-full'), ...selector }),
  z.strictObject({ kind: z.literal('model-ready-error'), code: statusName, message: z.string(), ...selector }),
  z.strictObject({ kind: z.literal('slow-load'), ms: nonNegative, ...selector }),
]);

export const latencySchema = z.strictObject({
  queueDelayMs: nonNegative.optional(),
  timeToFirstTokenMs: nonNegative.optional(),
  prefillMsPerToken: nonNegative.optional(),
  timePerTokenMs: nonNegative.optional(),
});

export const gpuSchema = z.strictObject({
  uuid: z.string().min(1),
  name: z.string().default('Simulated GPU'),
  memoryTotalBytes: z.number().positive(),
  idlePowerWatts: nonNegative.default(70),
  powerLimitWatts: nonNegative.default(700),
  saturationSequences: z.number().int().positive().default(32),
});

const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

export const modelSchema = z.strictObject({
  name: z.string().min(1),
  flavour: z.enum(['ensemble', 'tensorrt_llm_bls', 'vllm', 'llmapi', 'identity']),
  versions: z.array(z.number().int().min(1)).min(1).optional(),
  loaded: z.boolean().optional(),
  maxBatchSize: count.optional(),
  decoupled: z.boolean().optional(),
  concurrency: z.number().int().min(1).optional(),
  maxQueueSize: count.optional(),
  latency: latencySchema.optional(),
  parameters: stringMap.optional(),
  versionParameters: z.record(z.string(), stringMap).optional(),
  metricTags: stringMap.optional(),
  eosAfterTokens: z.number().int().min(1).optional(),
  maxInputTokens: z.number().int().min(1).optional(),
  defaultMaxTokens: z.number().int().min(1).optional(),
  kvCache: z
    .strictObject({
      blockTokens: z.number().int().min(1).optional(),
      maxBlocks: z.number().int().min(1).optional(),
      bytesPerToken: nonNegative.optional(),
    })
    .optional(),
  speculative: z.strictObject({ draftTokens: z.number().int().min(1), acceptanceRate: z.number().min(0).max(1) }).optional(),
  gpus: z.array(count).min(1).optional(),
  weightsBytes: nonNegative.optional(),
  datatype: z.string().refine(isDatatype, { message: 'not a protocol datatype (BYTES, INT32, FP32, ...)' }).optional(),
  words: z.array(z.string().regex(/^\S+$/, 'a word must not contain whitespace')).min(1).optional(),
  fault: faultSchema.optional(),
});

export const simFileSchema = z.strictObject({
  seed: z.number().int().optional(),
  latency: latencySchema.optional(),
  gpus: z.array(gpuSchema).min(1).optional(),
  models: z.array(modelSchema).min(1),
});

export type SimFile = z.infer<typeof simFileSchema>;

/** Parses with a schema and throws one readable message listing every problem. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new Error(`invalid ${what}:\n${z.prettifyError(result.error)}`);
}
