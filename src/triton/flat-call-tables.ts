/**
 * A workaround that keeps finished gRPC calls out of V8's old space: the per-connection tables
 * of calls in flight become in-flight tables (src/in-flight-table.ts) instead of a `Map` and two
 * `Set`s.
 *
 * Every call adds itself to, and then deletes itself from, three long-lived hash tables: grpc-js's
 * `Http2Transport.activeCalls` (a Set) and the HTTP/2 session's `streams` (a Map) and
 * `pendingStreams` (a Set), both Node internals. Once one of their hash tables is in old space,
 * every call and stream that passes through is promoted (in-flight-table.ts says how). So a
 * gateway process either promoted almost nothing or several KB per request, for its whole life,
 * depending on how its first seconds went: 1.0, 9.0, 1.7, 8.9, 1.2 KB per request in five runs
 * of one build at 500 req/s; with these tables replaced, 0.6–0.8 in six of six (bench/README.md,
 * "Promotion"). Node and grpc-js iterate these tables only to cancel or destroy everything on a
 * connection, deleting entries as they go, which the in-flight tables allow.
 */
import { createRequire } from 'node:module';
import { InFlightMap, InFlightSet } from '../in-flight-table.js';

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
  if (typeof table !== 'object' || table === null || table instanceof InFlightSet || table instanceof InFlightMap) return false;
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
  if (streams) state!.streams = new InFlightMap();
  if (pendingStreams) state!.pendingStreams = new InFlightSet();
  return { streams, pendingStreams };
}

/** Replaces the tables of a new grpc-js transport and of its HTTP/2 session. */
function flattenTransportTables(transport: { activeCalls?: unknown; session?: unknown }): FlattenedTables {
  const activeCalls = isEmptyTable(transport.activeCalls, 'add');
  if (activeCalls) transport.activeCalls = new InFlightSet();
  const session = typeof transport.session === 'object' && transport.session !== null ? flattenSessionTables(transport.session) : { streams: false, pendingStreams: false };
  return { activeCalls, ...session };
}

type CreateSession = (this: unknown, ...args: unknown[]) => Promise<unknown>;
interface Connector {
  prototype: { createSession: CreateSession & { flattensCallTables?: true } };
}

/** Transports whose tables were replaced since start-up, and the last one's result (for tests). */
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
