/**
 * The pino logger. Redaction is on by default: credentials anywhere in a logged object, and
 * prompt/completion text unless `logging.logPrompts` opts in. Every line of a request carries its
 * request id (fastify's child logger); the request observer adds the trace ids to the lines it
 * writes (nothing sets an active span: spans name their parents explicitly, see tracing-setup.ts).
 */
import pino, { type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

const SERVICE = 'triton-gateway';
const COMPLETION_MESSAGE = 'request completed';
/** The longest a line logged to stdout waits for its write. */
export const flushEveryMs = 100;

const secretPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'authorization',
  'apiKey',
  'apiKeys',
  'adminToken',
  '*.apiKey',
  '*.apiKeys',
  '*.adminToken',
  'config.auth',
];
const textPaths = ['prompt', 'completion', 'messages', '*.prompt', '*.completion', '*.messages', 'body.prompt', 'body.messages'];

export interface LoggerSettings {
  level: string;
  logPrompts: boolean;
}

function redactPaths(settings: LoggerSettings): string[] {
  return settings.logPrompts ? secretPaths : [...secretPaths, ...textPaths];
}

export function loggerOptions(settings: LoggerSettings): LoggerOptions {
  return {
    level: settings.level,
    base: { service: SERVICE },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(settings), censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

type CompletionLine = (fields: object) => void;

/** Loggers made by createLogger(), each with its completion-line writer once one was asked for. */
const roots = new WeakMap<object, { completion?: CompletionLine }>();

export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  // stdout written asynchronously and in chunks of at least 4 KB, pino's documented way to log
  // asynchronously: one write per ~6 completion lines instead of one per request, each of which
  // was a round trip through libuv's thread pool (~40 µs of the gateway's CPU per request at
  // 500 req/s, bench/HISTORY.md, stdout in chunks of 4 KB). A line waits at most `flushEveryMs`; pino flushes what is
  // left when the process exits. A SIGKILL can lose the last `flushEveryMs` of lines.
  const logger = pino(loggerOptions(settings), destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: flushEveryMs }));
  roots.set(logger, {});
  return logger;
}

/**
 * The writer of the one line per request ("request completed"): the same line pino would write
 * (level, time, service, the fields, msg; test/unit/telemetry/logger.test.ts compares the two),
 * serialized by one JSON.stringify and written to the logger's destination. Through pino the
 * line cost ~13 µs and ~8 KB of garbage per request, the most of any single thing the gateway
 * did (bench/HISTORY.md, four cuts on the request path): pino quotes every key, escapes every value and concatenates
 * ~90 strings, and its redactor visits every field. The line's fields are values the gateway
 * computed, never nested user data, and none is a redacted path (the test checks that too).
 * undefined when `log` does not come from createLogger().
 */
export function completionLineWriter(log: object): CompletionLine | undefined {
  for (let at: object | null = log, hops = 0; at !== null && hops < 8; at = Object.getPrototypeOf(at) as object | null, hops++) {
    const root = roots.get(at);
    if (!root) continue;
    root.completion ??= writerFor(at as Logger);
    return root.completion;
  }
  return undefined;
}

function writerFor(root: Logger): CompletionLine {
  const stream = (root as unknown as Record<symbol, DestinationStream & Record<symbol, unknown>>)[pino.symbols.streamSym];
  // A multistream wants each line's level and object alongside it: leave those to pino.
  if (stream === undefined || stream[pino.symbols.needsMetadataGsym] === true) return (fields) => root.info(fields, COMPLETION_MESSAGE);
  return (fields) => {
    if (!root.isLevelEnabled('info')) return;
    const json = JSON.stringify(fields);
    const body = json.length > 2 ? `,${json.slice(1, -1)}` : '';
    stream.write(`{"level":"info","time":"${new Date().toISOString()}","service":"${SERVICE}"${body},"msg":"${COMPLETION_MESSAGE}"}\n`);
  };
}

/**
 * fastify's child logger per request (its `childLoggerFactory`). pino's child() runs the
 * bindings through every redaction path, `*.` ones included, to write `{"reqId": "<id>"}`:
 * ~2 KB of garbage per request for a string no path can match. The usual `{ reqId }` binding is
 * appended as JSON instead; any other bindings or options take pino's own path.
 */
export function requestChildLogger(logger: Logger, bindings: Bindings, options: ChildLoggerOptions): Logger {
  const keys = Object.keys(bindings);
  const value = keys.length === 1 ? bindings[keys[0]!] : undefined;
  const chindings = pino.symbols.chindingsSym;
  if (typeof value !== 'string' || Object.keys(options).length > 0 || typeof (logger as unknown as Record<symbol, unknown>)[chindings] !== 'string') {
    return logger.child(bindings, options);
  }
  const child = logger.child({}) as unknown as Record<symbol, string>;
  child[chindings] += `,${JSON.stringify(keys[0])}:${JSON.stringify(value)}`;
  return child as unknown as Logger;
}
