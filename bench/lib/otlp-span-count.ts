/**
 * Counts the spans in an OTLP/HTTP trace export without decoding it into objects, so the
 * benchmark's receiver stays cheap on a 2-core machine that also runs the gateway.
 *
 * JSON: each span has one `"spanId":` (a parent is `"parentSpanId":`, which does not match).
 * Protobuf: ExportTraceServiceRequest.resource_spans (1) → ResourceSpans.scope_spans (2) →
 * ScopeSpans.spans (2); only the field keys and lengths on that path are read.
 */

export function countJsonSpans(text: string): number {
  const needle = '"spanId":';
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

export function countProtobufSpans(body: Uint8Array): number {
  let spans = 0;
  for (const resourceSpans of lengthDelimited(body, 0, body.length, 1)) {
    for (const scopeSpans of lengthDelimited(body, resourceSpans.start, resourceSpans.end, 2)) {
      for (const _span of lengthDelimited(body, scopeSpans.start, scopeSpans.end, 2)) spans++;
    }
  }
  return spans;
}

interface Range {
  start: number;
  end: number;
}

/** The byte ranges of every length-delimited field `field` of the message in [start, end). */
function* lengthDelimited(buf: Uint8Array, start: number, end: number, field: number): Generator<Range> {
  let at = start;
  while (at < end) {
    const key = varint(buf, at);
    at = key.next;
    const wireType = key.value & 7;
    switch (wireType) {
      case 0:
        at = varint(buf, at).next;
        break;
      case 1:
        at += 8;
        break;
      case 2: {
        const len = varint(buf, at);
        const range = { start: len.next, end: len.next + len.value };
        if (range.end > end) throw new Error('protobuf field runs past its message');
        if (key.value >>> 3 === field) yield range;
        at = range.end;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${wireType}`);
    }
  }
}

function varint(buf: Uint8Array, start: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let at = start; at < buf.length && shift < 64; at++) {
    const byte = buf[at]!;
    // Lengths and keys fit in 53 bits; multiplication keeps bits past 31 that << would drop.
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: at + 1 };
    shift += 7;
  }
  throw new Error('truncated protobuf varint');
}
