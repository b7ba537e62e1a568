/**
 * The governance events: one zod schema per event, each line of the event log is one of them.
 * Every event carries the same envelope (schema_version, id, event, at, instance) so a reader can
 * skip kinds it does not know. Field names are snake_case: they are an interface for log
 * pipelines and webhooks (runbooks/governance-events.md lists them).
 *
 * schema_version is per event kind; bump it (and keep reading the old one) when a field changes
 * meaning, never silently.
 */
import { z } from 'zod';

export const SCHEMA_VERSION = 1;

const isoTime = z.string().datetime({ offset: true });

/** What identifies an engine: the version Triton serves and the hash, quantisation and manifest behind it. */
export const engineManifestSchema = z
  .object({
    model: z.string(),
    triton_model: z.string(),
    target: z.string(),
    version: z.string().nullable(),
    engine_hash: z.string().nullable(),
    quantisation: z.string().nullable(),
    /** A reference to the artifact manifest (a backup verification hash, a URI, ...). */
    manifest: z.string().nullable(),
    /** Where the hash/quantisation/manifest came from: Triton's model config parameters, else the gateway config. */
    source: z.enum(['triton', 'config', 'none']),
  })
  .strict();
export type EngineManifest = z.infer<typeof engineManifestSchema>;

/** The model's ready versions and the schema-registry identifiers its config names. */
export const schemaVersionsSchema = z
  .object({
    model_versions: z.array(z.string()),
    schema_id: z.string().nullable(),
    schema_version: z.string().nullable(),
  })
  .strict();
export type SchemaVersions = z.infer<typeof schemaVersionsSchema>;

const envelope = {
  schema_version: z.literal(SCHEMA_VERSION),
  id: z.string().min(1),
  at: isoTime,
  /** host:pid of the process that recorded it (a gateway replica or the CLI). */
  instance: z.string(),
};

export const enginePublishedSchema = z
  .object({
    ...envelope,
    event: z.literal('llm_engine_published'),
    model: z.string(),
    engine: engineManifestSchema,
    /** The engine seen before on this model by this event log, if any. */
    previous: engineManifestSchema.nullable(),
  })
  .strict();

const warmupFields = {
  model: z.string(),
  triton_model: z.string(),
  version: z.string().nullable(),
  engine_hash: z.string().nullable(),
  schema_versions: schemaVersionsSchema,
  duration_ms: z.number().nonnegative(),
  latency_budget_ms: z.number().nullable(),
};

export const warmupCompletedSchema = z
  .object({
    ...envelope,
    event: z.literal('llm_warmup_completed'),
    ...warmupFields,
    completion_tokens: z.number().int().nullable(),
  })
  .strict();

export const warmupFailedSchema = z
  .object({
    ...envelope,
    event: z.literal('llm_warmup_failed'),
    ...warmupFields,
    reason: z.string(),
  })
  .strict();

export const rollbackCompletedSchema = z
  .object({
    ...envelope,
    event: z.literal('llm_rollback_completed'),
    model: z.string(),
    from_version: z.string().nullable(),
    to_version: z.string(),
    previous: engineManifestSchema,
    restored: engineManifestSchema,
    actor: z.string(),
    reason: z.string().nullable(),
    warmup_duration_ms: z.number().nonnegative(),
    /** Set when the rollback worked but a clean-up step (unloading the other versions) did not. */
    warning: z.string().nullable(),
    /**
     * True when Triton already served only to_version (another replica's rollback, or a Triton
     * redeploy, got there first): this replica loaded and unloaded nothing, it only pinned and
     * re-warmed. Absent from events recorded before the field existed.
     */
    already_on_target: z.boolean().optional(),
  })
  .strict();

/**
 * A rollback that did not complete, at any stage after its request was valid: what it tried, where
 * it stopped and what was left serving, so every attempt, not only the ones that worked, is in the
 * audit trail and reaches the webhook.
 */
export const rollbackFailedSchema = z
  .object({
    ...envelope,
    event: z.literal('llm_rollback_failed'),
    model: z.string(),
    to_version: z.string(),
    stage: z.enum(['validate', 'load', 'warmup', 'activate']),
    /** The HTTP status the admin API answered: 409 Triton refused, 503 Triton could not serve, 501 no repository control. */
    status: z.number().int(),
    error_code: z.string(),
    message: z.string(),
    /** The version this replica still pins after the failure; null when none is known to serve. */
    serving_version: z.string().nullable(),
    actor: z.string(),
    reason: z.string().nullable(),
  })
  .strict();

/** Whether moving a model from one Triton version to another goes forward (versions only grow). */
export function isRollForward(from: string | null, to: string): boolean {
  return from !== null && /^\d+$/.test(from) && /^\d+$/.test(to) && Number(to) > Number(from);
}

export const alertSignalSchema = z.enum(['cost', 'queue_delay']);
export type AlertSignal = z.infer<typeof alertSignalSchema>;

export const observabilityAlertSchema = z
  .object({
    ...envelope,
    event: z.literal('llm_observability_alert'),
    model: z.string(),
    signal: alertSignalSchema,
    status: z.enum(['firing', 'resolved']),
    /** Shared by the firing event and its resolve. */
    alert_id: z.string(),
    /** Mean over the window: USD per request for cost, microseconds for queue delay. */
    value: z.number().nullable(),
    threshold: z.number(),
    unit: z.enum(['usd_per_request', 'microseconds']),
    window_ms: z.number().int().positive(),
    requests: z.number().int().nonnegative(),
    waiver_id: z.string().nullable(),
    /** queued: sent to the finance webhook; waived: an active waiver accepted the spend. */
    finance_webhook: z.enum(['queued', 'waived', 'not_configured', 'not_applicable']),
  })
  .strict();

export const waiverRecordedSchema = z
  .object({
    ...envelope,
    event: z.literal('llm_waiver_recorded'),
    waiver_id: z.string(),
    model: z.string(),
    signal: alertSignalSchema,
    reason: z.string(),
    actor: z.string(),
    expires_at: isoTime,
  })
  .strict();

export const backupArtifactKindSchema = z.enum(['engine_plan', 'tokenizer', 'schema', 'model_config', 'other']);

export const backupRecordedSchema = z
  .object({
    ...envelope,
    event: z.literal('llm_backup_recorded'),
    backup_id: z.string(),
    source: z.string(),
    verification_hash: z.string(),
    artifacts: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    kinds: z.partialRecord(backupArtifactKindSchema, z.number().int()),
    destinations: z.array(z.object({ uri: z.string(), ok: z.boolean(), error: z.string().nullable() }).strict()),
    actor: z.string(),
  })
  .strict();

export const governanceEventSchema = z.discriminatedUnion('event', [
  enginePublishedSchema,
  warmupCompletedSchema,
  warmupFailedSchema,
  rollbackCompletedSchema,
  rollbackFailedSchema,
  observabilityAlertSchema,
  waiverRecordedSchema,
  backupRecordedSchema,
]);

export type GovernanceEvent = z.infer<typeof governanceEventSchema>;
export type EventType = GovernanceEvent['event'];
export type EventOf<T extends EventType> = Extract<GovernanceEvent, { event: T }>;
/** What a caller supplies: the envelope is stamped by the recorder. */
export type EventInput<T extends EventType = EventType> = T extends EventType
  ? Omit<EventOf<T>, 'schema_version' | 'id' | 'at' | 'instance'>
  : never;

export const EVENT_TYPES = [
  'llm_engine_published',
  'llm_warmup_completed',
  'llm_warmup_failed',
  'llm_rollback_completed',
  'llm_rollback_failed',
  'llm_observability_alert',
  'llm_waiver_recorded',
  'llm_backup_recorded',
] as const satisfies readonly EventType[];
