/**
 * Gateway configuration: one YAML file (GATEWAY_CONFIG) plus environment overrides, validated
 * once by zod. loadConfig() reports every problem at once (the chat templates' too: it loads them),
 * so a bad deploy fails with the whole list instead of one error per restart.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { MAX_CHAOS_SLOW_MS } from './inference/chaos.js';
import { chatTemplateProblems } from './inference/chat-template.js';
import { grpcTargets } from './triton/channel.js';

export { ConfigError };

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();
/** A model's governed maximum of max_tokens when the file does not set one. */
const DEFAULT_MAX_TOKENS = 4096;

const pricingSchema = z
  .object({
    inputPerMillion: nonNegative.describe('USD per million prompt tokens'),
    outputPerMillion: nonNegative.describe('USD per million completion tokens'),
  })
  .strict();

const warmupSchema = z
  .object({
    prompt: z.string().min(1).default('Say hello.'),
    maxTokens: positiveInt.default(4),
    latencyBudgetMs: positiveInt.default(30_000),
  })
  .strict();

const deadlinesSchema = z
  .object({
    totalMs: positiveInt.default(120_000),
    ttftMs: positiveInt.default(30_000),
    idleMs: positiveInt.default(30_000),
    /** The shortest total deadline a client may ask for with `x-request-timeout-ms`. */
    minRequestedMs: positiveInt.default(100),
  })
  .strict();

/**
 * Where a model's chat template comes from (exactly one source). Relative paths are resolved
 * against the config file's directory. bosToken/eosToken override the tokenizer config's.
 */
const chatTemplateSchema = z
  .object({
    /** A Hugging Face tokenizer_config.json: its chat_template, bos_token and eos_token. */
    tokenizerConfig: z.string().min(1).optional(),
    /** A .jinja file. */
    file: z.string().min(1).optional(),
    /** The Jinja template itself. */
    inline: z.string().min(1).optional(),
    bosToken: z.string().optional(),
    eosToken: z.string().optional(),
  })
  .strict()
  .refine((t) => [t.tokenizerConfig, t.file, t.inline].filter((v) => v !== undefined).length === 1, {
    message: 'set exactly one of tokenizerConfig, file or inline',
  });

const modelSchema = z
  .object({
    name: z.string().min(1).regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and . _ : / - only'),
    target: z.string().min(1).optional(),
    tritonModel: z.string().min(1).optional(),
    version: z.string().regex(/^\d*$/, 'a version number').default(''),
    flavour: z.enum(['trtllm', 'vllm', 'trtllm-llmapi']).optional(),
    defaultMaxTokens: positiveInt.default(16),
    maxTokens: positiveInt.default(DEFAULT_MAX_TOKENS),
    /** What to do with a request above maxTokens: clamp it (and flag it) or reject it. */
    tokenBudgetAction: z.enum(['clamp', 'reject']).default('clamp'),
    fallbacks: z.array(z.string().min(1)).default([]),
    pricing: pricingSchema.optional(),
    maxCostUsd: nonNegative.optional(),
    queueDelayBudgetUs: positiveInt.optional(),
    warmup: z.union([warmupSchema, z.literal(false)]).default({ prompt: 'Say hello.', maxTokens: 4, latencyBudgetMs: 30_000 }),
    deadlines: deadlinesSchema.default({ totalMs: 120_000, ttftMs: 30_000, idleMs: 30_000, minRequestedMs: 100 }),
    maxInFlight: positiveInt.optional(),
    /**
     * Non-streamed requests share a few long-lived Triton streams instead of opening one each
     * (DESIGN §9): much cheaper per request, but a client that disconnects no longer stops its
     * generation on Triton and no per-request traceparent reaches Triton. Streamed requests
     * always get their own stream.
     */
    multiplex: z.boolean().default(false),
    /** How /v1/chat/completions turns messages into this model's prompt; unset: chat gets a 400. */
    chatTemplate: chatTemplateSchema.optional(),
    engine: z
      .object({ hash: z.string().optional(), quantisation: z.string().optional(), manifest: z.string().optional() })
      .strict()
      .optional(),
  })
  .strict();

/**
 * A webhook receiver. fetch speaks http(s) only: any other scheme would fail every delivery.
 * `user:pass@` in it is sent as Basic auth (src/governance/webhook.ts).
 */
const webhookUrlSchema = z
  .string()
  .url()
  // An unparsable URL is reported by url() already.
  .refine((value) => !URL.canParse(value) || /^https?:$/.test(new URL(value).protocol), 'must be an http:// or https:// URL');

/** Governance: the event log, its webhooks, engine polling and the readiness policy (src/governance/). */
const governanceSchema = z
  .object({
    /** JSONL file every governance event is appended to (one fsync per event). */
    eventLog: z.string().min(1).default('./data/governance-events.jsonl'),
    /** Every event is also POSTed here (off the request path, with retries). */
    webhookUrl: webhookUrlSchema.optional(),
    webhookRetries: z.number().int().min(0).max(10).default(4),
    webhookBackoffMs: positiveInt.default(500),
    webhookTimeoutMs: positiveInt.default(5_000),
    /** The finance/readiness webhook: cost alerts (firing and resolved) go here too. */
    financeWebhookUrl: webhookUrlSchema.optional(),
    /** How often ready models are re-described to notice a new engine version or hash; 0 = never. */
    enginePollMs: z.number().int().min(0).default(60_000),
    policy: z
      .object({
        evaluateIntervalMs: positiveInt.default(5_000),
        /** Mean cost per request over the window; the threshold defaults to each model's maxCostUsd. */
        cost: z
          .object({ windowMs: positiveInt.default(300_000), thresholdUsd: nonNegative.optional(), minRequests: positiveInt.default(5) })
          .strict()
          .prefault({}),
        /** Mean Triton queue delay over the window; the threshold defaults to each model's queueDelayBudgetUs. */
        queueDelay: z
          .object({ windowMs: positiveInt.default(300_000), thresholdUs: positiveInt.optional(), minRequests: positiveInt.default(5) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const targetSchema = z
  .object({
    name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only'),
    /**
     * `host:port`, a comma-separated list of them, or a `dns:///name:port` target. Parsed here by
     * the channel's own parser, so an address no channel could use is a start-up problem.
     */
    grpc: z.string().superRefine((value, ctx) => {
      try {
        grpcTargets(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
    metricsUrl: z.string().url().optional(),
    tls: z.boolean().default(false),
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(0).max(65535).default(8080),
        bodyLimitBytes: positiveInt.default(1_048_576),
        maxPromptChars: positiveInt.default(100_000),
        /** The longest a client may take to send a whole request, headers and body (408 after). */
        requestTimeoutMs: positiveInt.default(30_000),
      })
      .strict()
      .default({ host: '0.0.0.0', port: 8080, bodyLimitBytes: 1_048_576, maxPromptChars: 100_000, requestTimeoutMs: 30_000 }),
    auth: z
      .object({
        apiKeys: z.array(z.string().min(16, 'API keys must be at least 16 characters')).default([]),
        adminToken: z.string().min(16, 'the admin token must be at least 16 characters').optional(),
      })
      .strict()
      .default({ apiKeys: [] }),
    triton: z
      .object({
        targets: z.array(targetSchema).default([]),
        healthIntervalMs: positiveInt.default(5_000),
        metricsIntervalMs: positiveInt.default(10_000),
        /** Open each stream with `triton_grpc_error: true` (reference §3.6). */
        grpcErrorMode: z.boolean().default(false),
        /** Shared streams per target for models with `multiplex: true` (src/triton/stream-mux.ts). */
        multiplexStreams: z.number().int().min(1).max(64).default(4),
        /** Backoff bounds for re-trying a model's schema read and warm-up. */
        warmupRetryMinMs: positiveInt.default(500),
        warmupRetryMaxMs: positiveInt.default(30_000),
      })
      .strict()
      .default({ targets: [], healthIntervalMs: 5_000, metricsIntervalMs: 10_000, grpcErrorMode: false, multiplexStreams: 4, warmupRetryMinMs: 500, warmupRetryMaxMs: 30_000 }),
    models: z.array(modelSchema).default([]),
    admission: z
      .object({
        maxInFlight: positiveInt.default(512),
        maxQueue: z.number().int().min(0).default(1024),
        queueTimeoutMs: positiveInt.default(10_000),
      })
      .strict()
      .default({ maxInFlight: 512, maxQueue: 1024, queueTimeoutMs: 10_000 }),
    resilience: z
      .object({
        breaker: z
          .object({
            errorThresholdPercentage: z.number().min(1).max(100).default(50),
            volumeThreshold: z.number().int().min(1).default(5),
            resetTimeoutMs: positiveInt.default(10_000),
            rollingWindowMs: positiveInt.default(10_000),
          })
          .strict()
          .default({ errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 10_000, rollingWindowMs: 10_000 }),
        retry: z
          .object({
            /** Attempts per route before moving to the next fallback (1 = no retry). */
            maxAttempts: z.number().int().min(1).max(5).default(2),
            baseDelayMs: z.number().int().min(0).default(25),
            maxDelayMs: z.number().int().min(0).default(250),
            budgetRatio: z.number().min(0).max(1).default(0.2),
            budgetMinPerWindow: z.number().int().min(0).default(3),
            budgetWindowMs: positiveInt.default(10_000),
          })
          .strict()
          .default({ maxAttempts: 2, baseDelayMs: 25, maxDelayMs: 250, budgetRatio: 0.2, budgetMinPerWindow: 3, budgetWindowMs: 10_000 }),
        cache: z
          .object({ enabled: z.boolean().default(false), maxEntries: positiveInt.default(500), ttlMs: positiveInt.default(300_000) })
          .strict()
          .default({ enabled: false, maxEntries: 500, ttlMs: 300_000 }),
      })
      .strict()
      .default({
        breaker: { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 10_000, rollingWindowMs: 10_000 },
        retry: { maxAttempts: 2, baseDelayMs: 25, maxDelayMs: 250, budgetRatio: 0.2, budgetMinPerWindow: 3, budgetWindowMs: 10_000 },
        cache: { enabled: false, maxEntries: 500, ttlMs: 300_000 },
      }),
    rateLimit: z
      .object({
        /** Requests per minute per API key (per client IP when no keys are configured); unset = off. */
        perMinute: positiveInt.optional(),
        /** Share the counters between replicas through Redis (ioredis URL). */
        redisUrl: z.string().url().optional(),
      })
      .strict()
      .default({}),
    loadShedding: z
      .object({
        maxEventLoopDelayMs: positiveInt.default(1_000),
        maxHeapUsedBytes: positiveInt.optional(),
        maxEventLoopUtilization: z.number().gt(0).max(1).optional(),
        retryAfterSeconds: positiveInt.default(5),
      })
      .strict()
      .default({ maxEventLoopDelayMs: 1_000, retryAfterSeconds: 5 }),
    chaos: z
      .object({
        enabled: z.boolean().default(false),
        rate: z.number().min(0).max(1).default(0.05),
        modes: z.array(z.enum(['error', 'timeout', 'slow'])).min(1).default(['error', 'timeout', 'slow']),
        /** Route templates to hit (e.g. /v1/completions); empty = every inference route. */
        routes: z.array(z.string()).default([]),
        /** Public model names to hit; empty = every model. */
        models: z.array(z.string()).default([]),
        slowMs: positiveInt.max(MAX_CHAOS_SLOW_MS, `at most ${MAX_CHAOS_SLOW_MS} ms`).default(2_000),
      })
      .strict()
      .default({ enabled: false, rate: 0.05, modes: ['error', 'timeout', 'slow'], routes: [], models: [], slowMs: 2_000 }),
    anomaly: z
      .object({
        windowSize: z.number().int().min(10).default(100),
        threshold: z.number().positive().default(3),
        minSamples: z.number().int().min(5).default(20),
        /** At most one "anomaly detected" warning per model and signal in this time (0: every one). */
        logIntervalMs: z.number().int().min(0).default(10_000),
      })
      .strict()
      .default({ windowSize: 100, threshold: 3, minSamples: 20, logIntervalMs: 10_000 }),
    governance: governanceSchema,
    shutdown: z
      .object({ drainSeconds: z.number().positive().default(30) })
      .strict()
      .default({ drainSeconds: 30 }),
    metrics: z
      .object({
        /** Off only to measure what metrics cost (bench/); /metrics then answers without samples. */
        enabled: z.boolean().default(true),
      })
      .strict()
      .default({ enabled: true }),
    logging: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Logging prompt and completion text is an explicit opt-in. */
        logPrompts: z.boolean().default(false),
      })
      .strict()
      .default({ level: 'info', logPrompts: false }),
  })
  .strict();

/**
 * Cross-references (targets, fallbacks), checked on the raw object so they are reported together
 * with the schema's own problems instead of only after those are fixed.
 */
function crossCheck(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const asArray = (v: unknown): Array<Record<string, unknown>> => (Array.isArray(v) ? (v as Array<Record<string, unknown>>) : []);
  const tritonRaw = (raw.triton ?? {}) as Record<string, unknown>;
  const targetList = asArray(tritonRaw.targets);
  const targets = new Set(targetList.map((t) => t?.name));
  if (targets.size !== targetList.length) problems.push('triton.targets: target names must be unique');
  if (targetList.length === 0) problems.push('triton.targets: no Triton target: set TRITON_GRPC_URL or triton.targets');
  const models = asArray(raw.models);
  const names = new Set(models.map((m) => m?.name));
  if (names.size !== models.length) problems.push('models: public model names must be unique');
  models.forEach((m, i) => {
    if (typeof m !== 'object' || m === null) return;
    if (m.target !== undefined && !targets.has(m.target)) problems.push(`models.${i}.target: unknown target '${String(m.target)}'`);
    if (m.target === undefined && targetList.length > 1) problems.push(`models.${i}.target: required when several targets are configured`);
    // Against the defaulted maxTokens too: a default above the cap is a mistake that no request
    // would show (governMaxTokens lowers it silently for a request without max_tokens), so it is
    // refused here, where the operator sees it.
    const maxTokens = m.maxTokens === undefined ? DEFAULT_MAX_TOKENS : m.maxTokens;
    if (typeof m.defaultMaxTokens === 'number' && typeof maxTokens === 'number' && m.defaultMaxTokens > maxTokens) {
      const which = m.maxTokens === undefined ? `the default maxTokens (${maxTokens})` : `maxTokens (${maxTokens})`;
      problems.push(`models.${i}.defaultMaxTokens: ${m.defaultMaxTokens} must not exceed ${which}`);
    }
    asArray(m.fallbacks).forEach((f, j) => {
      if (!names.has(f)) problems.push(`models.${i}.fallbacks.${j}: unknown model '${String(f)}'`);
      if (f === m.name) problems.push(`models.${i}.fallbacks.${j}: a model cannot fall back to itself`);
    });
  });
  return problems;
}

export type GatewayConfig = z.infer<typeof configSchema>;
export type ModelConfig = GatewayConfig['models'][number];
export type TargetConfig = GatewayConfig['triton']['targets'][number];

type Env = Record<string, string | undefined>;

/** Applies the documented environment overrides onto the raw (unvalidated) config object. */
function applyEnv(raw: Record<string, unknown>, env: Env, problems: string[]): void {
  const server = (raw.server ??= {}) as Record<string, unknown>;
  const auth = (raw.auth ??= {}) as Record<string, unknown>;
  const triton = (raw.triton ??= {}) as Record<string, unknown>;
  if (env.PORT !== undefined) {
    const port = Number(env.PORT);
    // A refused value is not applied: the schema would only report it again, as server.port.
    if (Number.isInteger(port) && port >= 0 && port <= 65535) server.port = port;
    else problems.push(`PORT: not a port number: '${env.PORT}'`);
  }
  if (env.HOST !== undefined) server.host = env.HOST;
  if (env.GATEWAY_EVENT_LOG !== undefined) {
    const governance = (raw.governance ??= {}) as Record<string, unknown>;
    governance.eventLog = env.GATEWAY_EVENT_LOG;
  }
  if (env.GATEWAY_ADMIN_TOKEN !== undefined) auth.adminToken = env.GATEWAY_ADMIN_TOKEN;
  if (env.GATEWAY_API_KEYS !== undefined) {
    auth.apiKeys = env.GATEWAY_API_KEYS.split(',').map((k) => k.trim()).filter((k) => k.length > 0);
  }
  // The env names where the first target lives, so one image can run in several clusters; each
  // variable applies on its own. A metrics URL with no target to apply to is a problem, not ignored.
  const grpc = env.TRITON_GRPC_URL;
  const metricsUrl = env.TRITON_METRICS_URL || undefined;
  if (grpc !== undefined || metricsUrl !== undefined) {
    const targets = Array.isArray(triton.targets) ? (triton.targets as Record<string, unknown>[]) : [];
    const overrides = { ...(grpc !== undefined ? { grpc } : {}), ...(metricsUrl !== undefined ? { metricsUrl } : {}) };
    if (targets.length > 0) targets[0] = { ...targets[0], ...overrides };
    else if (grpc !== undefined) triton.targets = [{ name: 'default', ...overrides }];
    else problems.push('TRITON_METRICS_URL: no Triton target to apply it to: set TRITON_GRPC_URL or triton.targets');
  }
}

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}

/**
 * The env applied, the schema and the cross-references checked: the config when there is no
 * problem, and the raw model entries either way (for loadConfig's template checks).
 */
function validate(raw: unknown, env: Env): { problems: string[]; config?: GatewayConfig; rawModels: unknown[] } {
  const problems: string[] = [];
  const copy = structuredClone(raw ?? {}) as Record<string, unknown>;
  if (typeof copy !== 'object' || Array.isArray(copy)) throw new ConfigError(['(root): the config must be a YAML mapping']);
  applyEnv(copy, env, problems);
  const result = configSchema.safeParse(copy);
  if (!result.success) problems.push(...formatIssues(result.error));
  problems.push(...crossCheck(copy));
  const rawModels: unknown[] = Array.isArray(copy.models) ? copy.models : [];
  if (problems.length > 0 || !result.success) return { problems, rawModels };
  // An unset default never exceeds the model's own maximum.
  result.data.models.forEach((m, i) => {
    if ((rawModels[i] as Record<string, unknown> | undefined)?.defaultMaxTokens === undefined) {
      m.defaultMaxTokens = Math.min(m.defaultMaxTokens, m.maxTokens);
    }
  });
  return { problems, config: result.data, rawModels };
}

/**
 * Validates an already-parsed config object (tests build configs this way). Template files are
 * not read here: loadConfig does that, and ChatTemplates.load for a config made this way.
 */
export function parseConfig(raw: unknown, env: Env = {}): GatewayConfig {
  const { problems, config } = validate(raw, env);
  if (config === undefined || problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * What is wrong with a config file that does not parse, and where. The yaml library's own message
 * quotes the offending line, and that line may hold the admin token or a password: only the
 * reason and the position are told.
 */
function yamlProblem(err: unknown, text: string): string {
  if (!(err instanceof YAMLParseError)) return 'it could not be parsed';
  const before = text.slice(0, err.pos[0]);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${err.message} (line ${line}, column ${column})`;
}

/** Reads GATEWAY_CONFIG (when set) and the environment; throws ConfigError listing every problem. */
export function loadConfig(env: Env = process.env): GatewayConfig {
  let raw: unknown = {};
  const path = env.GATEWAY_CONFIG;
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([`GATEWAY_CONFIG: cannot read ${path}: ${(err as Error).message}`]);
    }
    try {
      raw = parseYaml(text, { prettyErrors: false }) ?? {};
    } catch (err) {
      throw new ConfigError([`GATEWAY_CONFIG: ${path} is not valid YAML: ${yamlProblem(err, text)}`]);
    }
  }
  const { problems, config, rawModels } = validate(raw, env);
  const baseDir = path ? dirname(resolvePath(path)) : undefined;
  // Every template is loaded here, so its problems are listed with the others. When other parts
  // of the config failed, still each model whose chatTemplate itself is well-formed.
  const templates: Array<[number, ChatTemplateConfig]> = [];
  if (config !== undefined) {
    config.models.forEach((m, i) => {
      if (m.chatTemplate) templates.push([i, m.chatTemplate]);
    });
  } else {
    rawModels.forEach((m, i) => {
      const spec = chatTemplateSchema.safeParse((m as Record<string, unknown> | null)?.chatTemplate);
      if (spec.success) templates.push([i, spec.data]);
    });
  }
  if (baseDir !== undefined) templates.forEach(([, t]) => resolveTemplatePaths(t, baseDir));
  problems.push(...chatTemplateProblems(templates));
  if (config === undefined || problems.length > 0) throw new ConfigError(problems);
  return config;
}

type ChatTemplateConfig = z.infer<typeof chatTemplateSchema>;

/** Template files named in a config file are relative to that file, wherever the process runs. */
function resolveTemplatePaths(t: ChatTemplateConfig, baseDir: string): void {
  if (t.tokenizerConfig !== undefined) t.tokenizerConfig = resolvePath(baseDir, t.tokenizerConfig);
  if (t.file !== undefined) t.file = resolvePath(baseDir, t.file);
}
