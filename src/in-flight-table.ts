/**
 * Sets and Maps for what is in flight (requests, calls, streams): arrays, where a `Set` or `Map`
 * would keep finished requests alive in V8's old space.
 *
 * A long-lived Set or Map that something is added to and deleted from on every request is a trap
 * in V8. Its entries live in an OrderedHashTable that V8 replaces every few additions when entries
 * come and go; the table it replaces keeps a pointer to its successor and to the entries it held.
 * Once one of these tables has been moved to the old generation (a full GC moves what is live
 * there), that dead table keeps every later table alive through each scavenge, and with them every
 * entry they held, and whatever those entries reach, until the next full GC: all of it is copied
 * twice and promoted, which makes full GCs come sooner, which moves the table of the moment to
 * old space again. bench/README.md, "Promotion", has the measurements.
 *
 * An array has no successor chain: a swap-remove leaves no stale entry behind, and its backing
 * store is replaced only when the number in flight reaches a new high. What is in flight is few
 * (tens; a thousand with as many open streams), so a linear search costs less than the hash.
 * Iteration goes over a copy, so a callback may delete entries while it runs (aborting every
 * request at shutdown, destroying every stream of a session).
 */

/** A Set of things in flight, as an array. */
export class InFlightSet<T> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T): this {
    if (!this.items.includes(item)) this.items.push(item);
    return this;
  }

  has(item: T): boolean {
    return this.items.includes(item);
  }

  delete(item: T): boolean {
    const at = this.items.indexOf(item);
    if (at === -1) return false;
    const last = this.items.pop()!;
    if (at < this.items.length) this.items[at] = last;
    return true;
  }

  clear(): void {
    this.items.length = 0;
  }

  forEach(callback: (value: T, key: T, set: this) => void): void {
    for (const item of this.items.slice()) callback(item, item, this);
  }

  values(): IterableIterator<T> {
    return this.items.slice()[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.values();
  }
}

/** A Map of things in flight, as two arrays. */
export class InFlightMap<K, V> {
  private readonly keyList: K[] = [];
  private readonly valueList: V[] = [];

  get size(): number {
    return this.keyList.length;
  }

  get(key: K): V | undefined {
    const at = this.keyList.indexOf(key);
    return at === -1 ? undefined : this.valueList[at];
  }

  has(key: K): boolean {
    return this.keyList.includes(key);
  }

  set(key: K, value: V): this {
    const at = this.keyList.indexOf(key);
    if (at !== -1) {
      this.valueList[at] = value;
    } else {
      this.keyList.push(key);
      this.valueList.push(value);
    }
    return this;
  }

  delete(key: K): boolean {
    const at = this.keyList.indexOf(key);
    if (at === -1) return false;
    const lastKey = this.keyList.pop()!;
    const lastValue = this.valueList.pop()!;
    if (at < this.keyList.length) {
      this.keyList[at] = lastKey;
      this.valueList[at] = lastValue;
    }
    return true;
  }

  clear(): void {
    this.keyList.length = 0;
    this.valueList.length = 0;
  }

  forEach(callback: (value: V, key: K, map: this) => void): void {
    const keys = this.keyList.slice();
    const values = this.valueList.slice();
    for (let i = 0; i < keys.length; i++) callback(values[i]!, keys[i]!, this);
  }

  keys(): IterableIterator<K> {
    return this.keyList.slice()[Symbol.iterator]();
  }

  values(): IterableIterator<V> {
    return this.valueList.slice()[Symbol.iterator]();
  }

  entries(): IterableIterator<[K, V]> {
    return this.keyList.map((key, i): [K, V] => [key, this.valueList[i]!])[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}
