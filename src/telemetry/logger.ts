/**
 * The pino logger. Redaction is on by default: credentials anywhere in a logged object, and
 * prompt/completion text unless `logging.logPrompts` opts in. Every line of a request carries its
 * request id (fastify's child logger); the request observer adds the trace ids to the lines it
 * writes (nothing sets an active span: spans name their parents explicitly, see tracing-setup.ts).
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

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
    base: { service: 'triton-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(settings), censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

const roots = new WeakMap<object, { settings: LoggerSettings; flat?: Logger }>();

export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  // stdout written asynchronously: lines logged while a write is in flight go out together in
  // the next one, instead of one blocking write(2) per line on the request path (bench/).
  // pino flushes what is left when the process exits.
  const logger = pino(loggerOptions(settings), destination ?? pino.destination({ dest: 1, sync: false }));
  roots.set(logger, { settings });
  return logger;
}

/**
 * For the one line per request ("request completed"), whose fields are all values the gateway
 * computed and never nested user data: a child of the root logger of `log` (found through
 * pino's child-to-parent prototype chain) with the same redaction minus the `*.` paths. pino
 * runs a `*.` path's redactor on every field of every line, numbers included: ~45 KB of
 * garbage and a few per cent of the CPU per request (bench/). The child has no request
 * bindings, so the caller adds `reqId`. undefined when `log` does not come from createLogger().
 */
export function flatLineLogger(log: object): Logger | undefined {
  for (let at: object | null = log, hops = 0; at !== null && hops < 8; at = Object.getPrototypeOf(at) as object | null, hops++) {
    const root = roots.get(at);
    if (!root) continue;
    root.flat ??= (at as Logger).child({}, { redact: { paths: redactPaths(root.settings).filter((p) => !p.startsWith('*.')), censor: '[redacted]' } });
    return root.flat;
  }
  return undefined;
}
