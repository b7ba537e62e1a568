/**
 * Finished spans as plain data that survives `postMessage`: how they travel from the event loop
 * to the export worker (worker-span-processor.ts → span-export-worker.ts). A ReadableSpan cannot
 * be posted as it is: it has methods (`spanContext()`), its resource is a class with promises
 * inside, and its trace state is an object whose methods matter. Resources and scopes are sent
 * once per batch and referred to by index, so the exporter's grouping by identity still works
 * on the other side.
 *
 * A batch's spans are one flat array of strings and numbers, written by `SpanBatchBuilder.add`
 * and read back by `readableSpans` in the same order. The event loop pays for the structured
 * clone of every span it posts, and V8 copies a dense array of primitives several times faster
 * than the same fields as nested records (bench/HISTORY.md, span batches as flat arrays).
 */
import { createTraceState, type Attributes, type AttributeValue, type HrTime, type Link, type SpanContext, type SpanKind, type SpanStatus } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

interface ResourceRecord {
  attributes: Attributes;
  schemaUrl?: string;
}

interface ScopeRecord {
  name: string;
  version?: string;
  schemaUrl?: string;
}

/** One field of a span: what postMessage copies cheaply (attribute values may be arrays). */
type Field = string | number | boolean | undefined | AttributeValue;

export interface SpanBatch {
  resources: ResourceRecord[];
  scopes: ScopeRecord[];
  /** How many spans `fields` holds. */
  count: number;
  /** The spans' fields, one after another, in the order `add` writes them. */
  fields: Field[];
}

/** Stands for an absent attribute map (a link or event without one), as opposed to an empty one. */
const NO_ATTRIBUTES = -1;

function writeContext(fields: Field[], context: SpanContext): void {
  fields.push(context.traceId, context.spanId, context.traceFlags, context.isRemote, context.traceState?.serialize());
}

function writeAttributes(fields: Field[], attributes: Attributes | undefined): void {
  if (attributes === undefined) {
    fields.push(NO_ATTRIBUTES);
    return;
  }
  const keys = Object.keys(attributes);
  fields.push(keys.length);
  for (const key of keys) fields.push(key, attributes[key]);
}

/** Collects finished spans on the event loop's side; take() hands over a batch to post. */
export class SpanBatchBuilder {
  private fields: Field[] = [];
  private count = 0;
  private resources = new Map<Resource, number>();
  private scopes = new Map<ReadableSpan['instrumentationScope'], number>();
  private resourceRecords: ResourceRecord[] = [];
  private scopeRecords: ScopeRecord[] = [];

  get size(): number {
    return this.count;
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
    const f = this.fields;
    f.push(span.name, span.kind, resource, scope);
    writeContext(f, span.spanContext());
    if (span.parentSpanContext) {
      f.push(1);
      writeContext(f, span.parentSpanContext);
    } else {
      f.push(0);
    }
    f.push(span.startTime[0], span.startTime[1], span.endTime[0], span.endTime[1], span.duration[0], span.duration[1]);
    f.push(span.status.code, span.status.message);
    writeAttributes(f, span.attributes);
    f.push(span.links.length);
    for (const link of span.links) {
      writeContext(f, link.context);
      writeAttributes(f, link.attributes);
      f.push(link.droppedAttributesCount);
    }
    f.push(span.events.length);
    for (const event of span.events) {
      f.push(event.name, event.time[0], event.time[1]);
      writeAttributes(f, event.attributes);
      f.push(event.droppedAttributesCount);
    }
    f.push(span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount);
    this.count += 1;
  }

  /** The batch so far (empty afterwards). Call once no resource is pending (pendingResources()). */
  take(): SpanBatch {
    for (const [resource, index] of this.resources) {
      this.resourceRecords[index] = { attributes: resource.attributes, ...(resource.schemaUrl !== undefined ? { schemaUrl: resource.schemaUrl } : {}) };
    }
    const batch: SpanBatch = { resources: this.resourceRecords, scopes: this.scopeRecords, count: this.count, fields: this.fields };
    this.fields = [];
    this.count = 0;
    this.resources = new Map();
    this.scopes = new Map();
    this.resourceRecords = [];
    this.scopeRecords = [];
    return batch;
  }
}

/** Reads a batch's fields in the order `SpanBatchBuilder.add` wrote them. */
class FieldReader {
  private at = 0;

  constructor(private readonly fields: readonly Field[]) {}

  next<T extends Field>(): T {
    return this.fields[this.at++] as T;
  }

  hrTime(): HrTime {
    return [this.next<number>(), this.next<number>()];
  }

  context(): SpanContext {
    const context: SpanContext = { traceId: this.next<string>(), spanId: this.next<string>(), traceFlags: this.next<number>() };
    const isRemote = this.next<boolean | undefined>();
    const traceState = this.next<string | undefined>();
    if (isRemote !== undefined) context.isRemote = isRemote;
    if (traceState !== undefined) context.traceState = createTraceState(traceState);
    return context;
  }

  attributes(): Attributes | undefined {
    const count = this.next<number>();
    if (count === NO_ATTRIBUTES) return undefined;
    const attributes: Attributes = {};
    for (let i = 0; i < count; i++) {
      const key = this.next<string>();
      attributes[key] = this.next<AttributeValue | undefined>();
    }
    return attributes;
  }

  /** A count the writer put: a number of links or events, or a dropped count. */
  count(): number {
    return this.next<number>();
  }
}

/** The worker's side: the batch as ReadableSpans, one Resource and scope object per index. */
export function readableSpans(batch: SpanBatch): ReadableSpan[] {
  const resources = batch.resources.map((r) => resourceFromAttributes(r.attributes, r.schemaUrl !== undefined ? { schemaUrl: r.schemaUrl } : undefined));
  const read = new FieldReader(batch.fields);
  const spans: ReadableSpan[] = [];
  for (let n = 0; n < batch.count; n++) {
    const name = read.next<string>();
    const kind = read.next<SpanKind>();
    const resource = resources[read.next<number>()]!;
    const instrumentationScope = batch.scopes[read.next<number>()]!;
    const context = read.context();
    const parentSpanContext = read.next<number>() === 1 ? read.context() : undefined;
    const startTime = read.hrTime();
    const endTime = read.hrTime();
    const duration = read.hrTime();
    const code = read.next<SpanStatus['code']>();
    const message = read.next<string | undefined>();
    const status: SpanStatus = message === undefined ? { code } : { code, message };
    const attributes = read.attributes() ?? {};
    const links: Link[] = [];
    for (let i = read.count(); i > 0; i--) {
      const link: Link = { context: read.context() };
      const linkAttributes = read.attributes();
      if (linkAttributes !== undefined) link.attributes = linkAttributes;
      const dropped = read.next<number | undefined>();
      if (dropped !== undefined) link.droppedAttributesCount = dropped;
      links.push(link);
    }
    const events: TimedEvent[] = [];
    for (let i = read.count(); i > 0; i--) {
      const event: TimedEvent = { name: read.next<string>(), time: read.hrTime() };
      const eventAttributes = read.attributes();
      if (eventAttributes !== undefined) event.attributes = eventAttributes;
      const dropped = read.next<number | undefined>();
      if (dropped !== undefined) event.droppedAttributesCount = dropped;
      events.push(event);
    }
    spans.push({
      name,
      kind,
      spanContext: () => context,
      parentSpanContext,
      startTime,
      endTime,
      duration,
      ended: true,
      status,
      attributes,
      links,
      events,
      droppedAttributesCount: read.count(),
      droppedEventsCount: read.count(),
      droppedLinksCount: read.count(),
      resource,
      instrumentationScope,
    });
  }
  return spans;
}
