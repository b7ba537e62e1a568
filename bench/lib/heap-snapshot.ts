/**
 * What a V8 heap snapshot (`.heapsnapshot`, as `--heapsnapshot-signal` or v8.writeHeapSnapshot
 * writes it) holds: V8 collects garbage before it writes one, so the sum of the nodes' self sizes
 * is the live heap, unlike `heapUsed`, which counts garbage not yet collected.
 */
import { readFileSync } from 'node:fs';

export interface HeapSnapshotSummary {
  /** Sum of every node's self size: the live heap, in bytes. */
  liveBytes: number;
  nodes: number;
  /** The largest groups by self size: node type and constructor or kind (strings and code grouped). */
  top: Array<{ group: string; count: number; bytes: number }>;
}

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

export function summarizeHeapSnapshot(raw: RawSnapshot, topN = 10): HeapSnapshotSummary {
  const fields = raw.snapshot.meta.node_fields;
  const types = raw.snapshot.meta.node_types[0] as string[];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  if (stride === 0 || typeAt < 0 || nameAt < 0 || sizeAt < 0) throw new Error('not a V8 heap snapshot: node_fields lack type, name or self_size');
  const groups = new Map<string, { count: number; bytes: number }>();
  let liveBytes = 0;
  for (let i = 0; i < raw.nodes.length; i += stride) {
    const type = types[raw.nodes[i + typeAt]!] ?? 'unknown';
    const size = raw.nodes[i + sizeAt]!;
    liveBytes += size;
    // Strings and code are many small nodes with unique names: one group each.
    const name = type.includes('string') ? '(strings)' : type === 'code' ? '(code)' : (raw.strings[raw.nodes[i + nameAt]!] ?? '').slice(0, 60);
    const key = `${type} ${name}`;
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    g.count += 1;
    g.bytes += size;
    groups.set(key, g);
  }
  const top = [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, topN).map(([group, g]) => ({ group, ...g }));
  return { liveBytes, nodes: raw.nodes.length / stride, top };
}

export function readHeapSnapshot(file: string, topN?: number): HeapSnapshotSummary {
  return summarizeHeapSnapshot(JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot, topN);
}
