/**
 * A workaround for Node 20 and 22 that keeps every gRPC call's objects out of V8's old space.
 *
 * `ClientHttp2Session.request()` (every call grpc-js makes) binds its connect callback with
 * `AsyncResource#bind`, which gives the bound function a deprecated `asyncResource` getter and
 * setter. Node 20's `util.deprecate` makes each of the two with `Object.setPrototypeOf(wrapper,
 * fn)`, so V8 makes a new map for each, in old space, whose prototype is the young `fn` (Node
 * 22.23 skips the setPrototypeOf, but a getter and setter of the call's own still need a map of
 * their own, which holds them: the same effect, see nodeBindPromotesCallers). The maps die with
 * the request, but old space is only swept by a full GC; until then a scavenge takes the map's
 * prototype slot for a live reference, keeps `fn` alive, and through `fn`'s closure the HTTP/2
 * stream, its listeners, the grpc-js call and whatever the caller hung on it. Those survive two
 * scavenges and are promoted. Measured at 500 calls/s (bench/README.md, "Promotion"): a bare
 * node:http2 client promoted 3.6-4.0 KB per call with scavenge pauses of 7-12 ms; with this
 * bind, 0.1 KB and 1.3-2 ms. The gateway's went from ~14 to 6-8 KB per request in most runs.
 *
 * The replacement does what Node's bind does (runs `fn` in the resource's async scope, keeps
 * `fn.length`, exposes `asyncResource`) except that reading `asyncResource` no longer prints
 * the DEP0172 warning: it is a plain property. It is installed only where Node's own bind still
 * gives each bound function accessors of its own (Node 20 and 22 both; see
 * nodeBindPromotesCallers), so a Node release that fixes it keeps its own.
 */
import { AsyncResource } from 'node:async_hooks';

type AnyFunction = (...args: unknown[]) => unknown;
// @types/node leaves out bind's second parameter, which Node has had since 14.
type Bind = (this: AsyncResource, fn: unknown, thisArg?: unknown) => AnyFunction;

const nodeBind = AsyncResource.prototype.bind as unknown as Bind;

/**
 * Whether this Node's AsyncResource#bind gives each bound function accessors of its own. Node 20
 * makes them with `util.deprecate`, which sets each wrapper's prototype to a new function; Node
 * 22.23 no longer does, but still defines a new getter and setter per call, and a property
 * defined with accessors no other object shares needs a map of its own, in old space, holding
 * them: the same promotion (10.1 KB per request with Node 22's bind, 1.0 with the lean one, in
 * `bench/allocation.ts` on Node 22.23.3). Shared accessors, or a data property, would not.
 */
export function nodeBindPromotesCallers(): boolean {
  const probe = new AsyncResource('triton-gateway.bind-probe', { requireManualDestroy: true });
  const getterOf = (bound: AnyFunction): unknown => Object.getOwnPropertyDescriptor(bound, 'asyncResource')?.get;
  const first = getterOf(nodeBind.call(probe, () => undefined));
  const second = getterOf(nodeBind.call(probe, () => undefined));
  return first !== undefined && first !== second;
}

function leanBind(this: AsyncResource, fn: AnyFunction, thisArg?: unknown): AnyFunction {
  // Node's own bind validates its argument and throws Node's error for a non-function.
  if (typeof fn !== 'function') return nodeBind.call(this, fn, thisArg);
  const resource = this;
  const bound: AnyFunction =
    thisArg === undefined
      ? function (this: unknown, ...args: unknown[]) {
          return resource.runInAsyncScope(fn, this, ...args);
        }
      : resource.runInAsyncScope.bind(resource, fn, thisArg) as AnyFunction;
  Object.defineProperties(bound, {
    length: { configurable: true, enumerable: false, writable: false, value: fn.length },
    asyncResource: { configurable: true, enumerable: true, writable: true, value: resource },
  });
  return bound;
}

/**
 * Replaces AsyncResource#bind for the whole process when this Node needs it. Returns whether
 * the lean bind is in place. Called once at start-up by the gateway (src/server.ts) and by the
 * benchmark's gRPC clients, before their first call.
 */
export function installLeanAsyncResourceBind(): boolean {
  if (AsyncResource.prototype.bind === (leanBind as unknown)) return true;
  if (!nodeBindPromotesCallers()) return false;
  AsyncResource.prototype.bind = leanBind as typeof AsyncResource.prototype.bind;
  return true;
}

/** Puts Node's own bind back (tests). */
export function uninstallLeanAsyncResourceBind(): void {
  AsyncResource.prototype.bind = nodeBind as unknown as typeof AsyncResource.prototype.bind;
}
