/**
 * The in-flight tables do what a Set and a Map do, for every use the gateway, Node's HTTP/2
 * sessions and grpc-js make of them, including deleting entries while iterating.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InFlightMap, InFlightSet } from '../../src/in-flight-table.js';

test('InFlightSet does what a Set does for add, has, delete, size and iteration', () => {
  const list = new InFlightSet<string>();
  const set = new Set<string>();
  const ops: Array<['add' | 'delete', string]> = [['add', 'a'], ['add', 'b'], ['add', 'a'], ['add', 'c'], ['delete', 'a'], ['delete', 'x'], ['add', 'd'], ['delete', 'c']];
  for (const [op, value] of ops) {
    if (op === 'add') {
      assert.equal(list.add(value), list);
      set.add(value);
    } else {
      assert.equal(list.delete(value), set.delete(value), `delete ${value}`);
    }
    assert.equal(list.size, set.size);
    assert.deepEqual([...list].sort(), [...set].sort());
    for (const v of ['a', 'b', 'c', 'd', 'x']) assert.equal(list.has(v), set.has(v));
  }
});

test('every entry is visited even when the callback deletes entries, as destroying streams does', () => {
  const list = new InFlightSet<number>();
  const table = new InFlightMap<number, string>();
  for (let i = 1; i <= 5; i++) {
    list.add(i);
    table.set(i * 2 + 1, `stream ${i}`);
  }
  const seen: number[] = [];
  list.forEach((v) => {
    seen.push(v);
    list.delete(v);
  });
  assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5]);
  assert.equal(list.size, 0);
  const streams: string[] = [];
  table.forEach((value, key) => {
    streams.push(value);
    table.delete(key);
  });
  assert.equal(streams.length, 5);
  assert.equal(table.size, 0);
  for (const v of [7, 8, 9]) list.add(v);
  for (const v of list) list.delete(v);
  assert.equal(list.size, 0, 'for...of too');
});

test('InFlightMap does what a Map does for get, set, has, delete and size', () => {
  const table = new InFlightMap<number, string>();
  const map = new Map<number, string>();
  for (const [key, value] of [[1, 'a'], [3, 'b'], [5, 'c'], [3, 'b2']] as const) {
    assert.equal(table.set(key, value), table);
    map.set(key, value);
  }
  for (const key of [5, 9, 1]) assert.equal(table.delete(key), map.delete(key));
  table.set(7, 'd');
  map.set(7, 'd');
  for (const key of [1, 3, 5, 7, 9]) {
    assert.equal(table.get(key), map.get(key));
    assert.equal(table.has(key), map.has(key));
  }
  assert.equal(table.size, map.size);
  assert.deepEqual([...table.entries()].sort(), [...map.entries()].sort());
  assert.deepEqual([...table.keys()].sort(), [...map.keys()].sort());
  assert.deepEqual([...table.values()].sort(), [...map.values()].sort());
});

test('clear() empties both, as a Set and a Map would', () => {
  const list = new InFlightSet<number>();
  const table = new InFlightMap<string, number>();
  for (let i = 0; i < 4; i++) {
    list.add(i);
    table.set(`r${i}`, i);
  }
  list.clear();
  table.clear();
  assert.equal(list.size, 0);
  assert.equal(table.size, 0);
  assert.equal(table.get('r1'), undefined);
  assert.equal(list.has(1), false);
  table.set('r9', 9);
  assert.deepEqual([...table], [['r9', 9]]);
});
