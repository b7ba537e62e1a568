/**
 * The last N requests the simulator received, for tests and /control/requests. Entries keep
 * the wire request and decode tensors and metadata only when read, so recording costs little
 * on the hot path.
 */
import type { Metadata } from '@grpc/grpc-js';
import type { WireRequest } from '../protocol/infer-request.js';
import { parameterValue } from '../protocol/infer-request.js';
import { decodeValues } from '../protocol/tensor-values.js';
import type { RecordedRequest, RecordedTensor, RequestOutcome } from '../types.js';

export interface RecordEntry {
  seq: number;
  time: number;
  transport: RecordedRequest['transport'];
  wire: WireRequest;
  metadata: Metadata | Record<string, string>;
  outcome: RequestOutcome;
  error?: string;
}

export class Recorder {
  private readonly ring: RecordEntry[] = [];
  private next = 0;
  private seq = 0;

  constructor(private readonly limit: number) {}

  add(wire: WireRequest, transport: RecordedRequest['transport'], metadata: Metadata | Record<string, string>): RecordEntry {
    const entry: RecordEntry = { seq: ++this.seq, time: Date.now(), transport, wire, metadata, outcome: 'pending' };
    if (this.ring.length < this.limit) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.limit;
    return entry;
  }

  /** Oldest first; `last` keeps only the newest N. */
  list(last?: number): RecordedRequest[] {
    const ordered = this.ring.length < this.limit ? this.ring : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    const picked = last !== undefined && last < ordered.length ? ordered.slice(ordered.length - last) : ordered;
    return picked.map(toRecorded);
  }

  clear(): void {
    this.ring.length = 0;
    this.next = 0;
  }
}

function toRecorded(e: RecordEntry): RecordedRequest {
  const parameters: Record<string, string | number | boolean> = {};
  for (const [k, p] of Object.entries(e.wire.parameters)) {
    const v = parameterValue(p);
    if (v !== undefined) parameters[k] = v;
  }
  const inputs: Record<string, RecordedTensor> = {};
  for (const t of e.wire.inputs) {
    let values: RecordedTensor['values'] = [];
    if (t.raw !== undefined) {
      try {
        values = decodeValues(t.datatype, t.raw);
      } catch {
        values = [];
      }
    }
    inputs[t.name] = { datatype: t.datatype, shape: [...t.shape], values };
  }
  const out: RecordedRequest = {
    seq: e.seq,
    time: e.time,
    transport: e.transport,
    model: e.wire.modelName,
    version: e.wire.modelVersion,
    id: e.wire.id,
    parameters,
    inputs,
    metadata: metadataRecord(e.metadata),
    outcome: e.outcome,
  };
  if (e.error !== undefined) out.error = e.error;
  return out;
}

function metadataRecord(m: Metadata | Record<string, string>): Record<string, string> {
  if (typeof (m as Metadata).getMap !== 'function') return { ...(m as Record<string, string>) };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((m as Metadata).getMap())) out[k] = typeof v === 'string' ? v : v.toString('base64');
  return out;
}
