/**
 * Finished spans as plain data that survives `postMessage`: how they travel from the event loop
 * to the export worker (worker-span-processor.ts → span-export-worker.ts). A ReadableSpan cannot
 * be posted as it is: it has methods (`spanContext()`), its resource is a class with promises
 * inside, and its trace state is an object whose methods matter. Resources and scopes are sent
 * once per batch and referred to by index, so the exporter's grouping by identity still works
 * on the other side.
 */
import { createTraceState, type Attributes, type HrTime, type SpanContext, type SpanKind, type SpanStatus } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

interface ContextRecord {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
  traceState?: string;
}

interface LinkRecord {
  context: ContextRecord;
  attributes?: Attributes;
  droppedAttributesCount?: number;
}

interface SpanRecord {
  name: string;
  kind: SpanKind;
  context: ContextRecord;
  parent?: ContextRecord;
  startTime: HrTime;
  endTime: HrTime;
  duration: HrTime;
  status: SpanStatus;
  attributes: Attributes;
  links: LinkRecord[];
  events: TimedEvent[];
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
  resource: number;
  scope: number;
}

interface ResourceRecord {
  attributes: Attributes;
  schemaUrl?: string;
}

interface ScopeRecord {
  name: string;
  version?: string;
  schemaUrl?: string;
}

export interface SpanBatch {
  resources: ResourceRecord[];
  scopes: ScopeRecord[];
  spans: SpanRecord[];
}

function contextRecord(context: SpanContext): ContextRecord {
  const record: ContextRecord = { traceId: context.traceId, spanId: context.spanId, traceFlags: context.traceFlags };
  if (context.isRemote !== undefined) record.isRemote = context.isRemote;
  if (context.traceState) record.traceState = context.traceState.serialize();
  return record;
}

function spanContext(record: ContextRecord): SpanContext {
  const context: SpanContext = { traceId: record.traceId, spanId: record.spanId, traceFlags: record.traceFlags };
  if (record.isRemote !== undefined) context.isRemote = record.isRemote;
  if (record.traceState !== undefined) context.traceState = createTraceState(record.traceState);
  return context;
}

/** Collects finished spans on the event loop's side; take() hands over a batch to post. */
export class SpanBatchBuilder {
  private spans: SpanRecord[] = [];
  private resources = new Map<Resource, number>();
  private scopes = new Map<ReadableSpan['instrumentationScope'], number>();
  private resourceRecords: ResourceRecord[] = [];
  private scopeRecords: ScopeRecord[] = [];

  get size(): number {
    return this.spans.length;
  }

  /** The resources of the spans added so far whose attributes are still being detected. */
  pendingResources(): Resource[] {
    return [...this.resources.keys()].filter((resource) => resource.asyncAttributesPending === true);
  }

  add(span: ReadableSpan): void {
    let resource = this.resources.get(span.resource);
    if (resource === undefined) {
      resource = this.resourceRecords.length;
      this.resources.set(span.resource, resource);
      // Read when the batch is taken, not now: detected attributes may still be arriving.
      this.resourceRecords.push({ attributes: {} });
    }
    let scope = this.scopes.get(span.instrumentationScope);
    if (scope === undefined) {
      scope = this.scopeRecords.length;
      this.scopes.set(span.instrumentationScope, scope);
      const { name, version, schemaUrl } = span.instrumentationScope;
      this.scopeRecords.push({ name, ...(version !== undefined ? { version } : {}), ...(schemaUrl !== undefined ? { schemaUrl } : {}) });
    }
    const record: SpanRecord = {
      name: span.name,
      kind: span.kind,
      context: contextRecord(span.spanContext()),
      startTime: span.startTime,
      endTime: span.endTime,
      duration: span.duration,
      status: span.status,
      attributes: span.attributes,
      links: span.links.map((link) => ({ ...link, context: contextRecord(link.context) })),
      events: span.events,
      droppedAttributesCount: span.droppedAttributesCount,
      droppedEventsCount: span.droppedEventsCount,
      droppedLinksCount: span.droppedLinksCount,
      resource,
      scope,
    };
    if (span.parentSpanContext) record.parent = contextRecord(span.parentSpanContext);
    this.spans.push(record);
  }

  /** The batch so far (empty afterwards). Call once no resource is pending (pendingResources()). */
  take(): SpanBatch {
    for (const [resource, index] of this.resources) {
      this.resourceRecords[index] = { attributes: resource.attributes, ...(resource.schemaUrl !== undefined ? { schemaUrl: resource.schemaUrl } : {}) };
    }
    const batch: SpanBatch = { resources: this.resourceRecords, scopes: this.scopeRecords, spans: this.spans };
    this.spans = [];
    this.resources = new Map();
    this.scopes = new Map();
    this.resourceRecords = [];
    this.scopeRecords = [];
    return batch;
  }
}

/** The worker's side: the batch as ReadableSpans, one Resource and scope object per index. */
export function readableSpans(batch: SpanBatch): ReadableSpan[] {
  const resources = batch.resources.map((r) => resourceFromAttributes(r.attributes, r.schemaUrl !== undefined ? { schemaUrl: r.schemaUrl } : undefined));
  return batch.spans.map((s) => {
    const context = spanContext(s.context);
    return {
      name: s.name,
      kind: s.kind,
      spanContext: () => context,
      parentSpanContext: s.parent ? spanContext(s.parent) : undefined,
      startTime: s.startTime,
      endTime: s.endTime,
      duration: s.duration,
      ended: true,
      status: s.status,
      attributes: s.attributes,
      links: s.links.map((link) => ({ ...link, context: spanContext(link.context) })),
      events: s.events,
      droppedAttributesCount: s.droppedAttributesCount,
      droppedEventsCount: s.droppedEventsCount,
      droppedLinksCount: s.droppedLinksCount,
      resource: resources[s.resource]!,
      instrumentationScope: batch.scopes[s.scope]!,
    };
  });
}
