/**
 * A workaround that keeps finished gRPC calls out of V8's old space: the per-connection tables
 * of calls in flight become arrays instead of a `Map` and two `Set`s.
 *
 * Every call adds itself to, and then deletes itself from, three long-lived hash tables: grpc-js's
 * `Http2Transport.activeCalls` (a Set) and the HTTP/2 session's `streams` (a Map) and
 * `pendingStreams` (a Set), both Node internals. V8 keeps a Map's or Set's entries in an
 * OrderedHashTable that it replaces every few additions when entries come and go; the table it
 * replaces keeps a pointer to its successor and to the entries it held. Once any of these tables
 * has been moved to the old generation (a full GC promotes what is live), that dead table keeps
 * every later table alive through each scavenge, and with them every call, stream and request
 * they held, until the next full GC: all of it is copied twice and promoted, which makes full
 * GCs come sooner, which promotes the next table. So a gateway process either promotes almost
 * nothing or several KB per request, for its whole life, depending on how its first seconds went:
 * 0.6–1.0 against 8.9–9.3 KB per request in five runs of one build at 500 req/s; with these tables
 * as arrays, 0.6–0.8 in all five (bench/README.md, "Promotion").
 *
 * An array has no successor chain: a swap-remove leaves no stale entry behind, and its backing
 * store is replaced only when the number in flight reaches a new high. In-flight calls per
 * connection are few (tens; 1,000 with as many open streams), so a linear search costs less than
 * the hash. Iteration, which Node and grpc-js use only to cancel or destroy everything on a
 * connection, goes over a copy, as those callbacks delete entries while it runs.
 */
import { createRequire } from 'node:module';

/** A Set of the few calls in flight on one connection, as an array. */
export class CallList<T> {
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

/** A Map of the streams in flight on one HTTP/2 session, keyed by stream id, as two arrays. */
export class StreamTable<K, V> {
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

/** Which of a connection's tables were replaced. */
export interface FlattenedTables {
  activeCalls: boolean;
  streams: boolean;
  pendingStreams: boolean;
}

function sessionState(session: object): Record<string, unknown> | undefined {
  const key = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === 'state');
  const state = key === undefined ? undefined : (session as Record<symbol, unknown>)[key];
  return typeof state === 'object' && state !== null ? (state as Record<string, unknown>) : undefined;
}

/**
 * Whether `table` is an empty Map (or Set, with `add`). Node's internal tables are its SafeMap and
 * SafeSet, which are not `instanceof Map` or `Set`, so the shape decides.
 */
function isEmptyTable(table: unknown, adds: 'set' | 'add'): boolean {
  if (typeof table !== 'object' || table === null || table instanceof CallList || table instanceof StreamTable) return false;
  const t = table as Record<string, unknown>;
  return t.size === 0 && typeof t[adds] === 'function' && typeof t.delete === 'function' && typeof t.forEach === 'function';
}

/**
 * Replaces the tables of a new HTTP/2 client session (Node's `streams` and `pendingStreams`),
 * if they are still the empty Map and Set Node made. Anything else is left alone.
 */
export function flattenSessionTables(session: object): Pick<FlattenedTables, 'streams' | 'pendingStreams'> {
  const state = sessionState(session);
  const streams = isEmptyTable(state?.streams, 'set');
  const pendingStreams = isEmptyTable(state?.pendingStreams, 'add');
  if (streams) state!.streams = new StreamTable();
  if (pendingStreams) state!.pendingStreams = new CallList();
  return { streams, pendingStreams };
}

/** Replaces the tables of a new grpc-js transport and of its HTTP/2 session. */
export function flattenTransportTables(transport: { activeCalls?: unknown; session?: unknown }): FlattenedTables {
  const activeCalls = isEmptyTable(transport.activeCalls, 'add');
  if (activeCalls) transport.activeCalls = new CallList();
  const session = typeof transport.session === 'object' && transport.session !== null ? flattenSessionTables(transport.session) : { streams: false, pendingStreams: false };
  return { activeCalls, ...session };
}

type CreateSession = (this: unknown, ...args: unknown[]) => Promise<unknown>;
interface Connector {
  prototype: { createSession: CreateSession & { flattensCallTables?: true } };
}

/** Transports whose tables were replaced since start-up, and the last one's result (diagnostics, tests). */
export const flattened = { transports: 0, last: undefined as FlattenedTables | undefined };

/**
 * Makes every transport grpc-js connects from now on use the array tables. grpc-js makes a
 * transport, and the HTTP/2 session under it, in `Http2SubchannelConnector#createSession`;
 * that is the one place to reach both before the first call. Returns false, changing nothing,
 * where this grpc-js has no such method. Called once at start-up by the gateway (src/server.ts)
 * and by the benchmark's gRPC clients.
 */
export function installFlatCallTables(): boolean {
  const require = createRequire(import.meta.url);
  let connector: Connector | undefined;
  try {
    connector = (require('@grpc/grpc-js/build/src/transport.js') as { Http2SubchannelConnector?: Connector }).Http2SubchannelConnector;
  } catch {
    return false;
  }
  const original = connector?.prototype.createSession;
  if (typeof original !== 'function') return false;
  if (original.flattensCallTables) return true;
  const createSession: CreateSession & { flattensCallTables?: true } = async function (this: unknown, ...args: unknown[]) {
    const transport = await original.apply(this, args);
    if (typeof transport === 'object' && transport !== null) {
      flattened.last = flattenTransportTables(transport);
      flattened.transports += 1;
    }
    return transport;
  };
  createSession.flattensCallTables = true;
  connector!.prototype.createSession = createSession;
  return true;
}
