/**
 * grpc-js makes an `Error` on every call it starts (client.js, `callerStackError`), only so that
 * a failed call's error can carry the stack of the code that started it. The gateway never shows
 * that stack: every failure becomes a GatewayError with its own code and message
 * (status-map.ts). Capturing it was the largest part of `makeBidiStreamRequest`'s own time in the
 * gateway's CPU profile at 500 req/s (10–16 µs per request; bench/HISTORY.md, the caller stack grpc-js captures), so calls are
 * started with V8's stack capture off.
 */
export function withoutCallerStack<T>(start: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return start();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
