/**
 * The heap-snapshot summary behind bench/stream-memory.ts: the live heap of a real snapshot of
 * this process, and the grouping on a hand-made one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeHeapSnapshot } from 'node:v8';
import { readHeapSnapshot, summarizeHeapSnapshot } from '../../bench/lib/heap-snapshot.js';

test('sums self sizes and groups by type and constructor, strings and code together', () => {
  const summary = summarizeHeapSnapshot({
    snapshot: { meta: { node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'], node_types: [['hidden', 'object', 'string', 'code', 'concatenated string']] } },
    // type, name, id, self_size, edge_count
    nodes: [1, 0, 1, 100, 0, 1, 0, 2, 50, 0, 1, 1, 3, 40, 0, 2, 2, 4, 30, 0, 4, 3, 5, 20, 0, 3, 4, 6, 10, 0],
    strings: ['Socket', 'Timeout', 'hello', 'wor', 'fn'],
  });
  assert.equal(summary.liveBytes, 250);
  assert.equal(summary.nodes, 6);
  assert.deepEqual(summary.top, [
    { group: 'object Socket', count: 2, bytes: 150 },
    { group: 'object Timeout', count: 1, bytes: 40 },
    { group: 'string (strings)', count: 1, bytes: 30 },
    { group: 'concatenated string (strings)', count: 1, bytes: 20 },
    { group: 'code (code)', count: 1, bytes: 10 },
  ]);
  assert.throws(() => summarizeHeapSnapshot({ snapshot: { meta: { node_fields: [], node_types: [[]] } }, nodes: [], strings: [] }), /not a V8 heap snapshot/);
});

test('a real snapshot of this process counts the objects it keeps and stays within its heap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heap-snap-'));
  try {
    const keep = Array.from({ length: 20_000 }, (_, i) => ({ i, s: `kept-${i}` }));
    const summary = readHeapSnapshot(writeHeapSnapshot(join(dir, 'x.heapsnapshot')), 50);
    assert.ok(summary.liveBytes > 1_000_000, `live ${summary.liveBytes}`);
    assert.ok(summary.liveBytes < process.memoryUsage().heapTotal, 'more live than the heap holds');
    // Reading `keep` after the snapshot keeps it live while the snapshot is taken.
    assert.ok(summary.top.some((g) => g.group === 'object Object' && g.count >= keep.length), JSON.stringify(summary.top.slice(0, 5)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
