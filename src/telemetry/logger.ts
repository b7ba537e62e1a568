/**
 * The pino logger. Redaction is on by default: credentials anywhere in a logged object, and
 * prompt/completion text unless `logging.logPrompts` opts in. Every line of a request carries its
 * request id (fastify's child logger) and its trace ids (the mixin reads the active span).
 */
import { trace } from '@opentelemetry/api';
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

export function loggerOptions(settings: LoggerSettings): LoggerOptions {
  return {
    level: settings.level,
    base: { service: 'triton-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: settings.logPrompts ? secretPaths : [...secretPaths, ...textPaths], censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const ctx = span.spanContext();
      return { trace_id: ctx.traceId, span_id: ctx.spanId };
    },
  };
}

export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  // stdout written asynchronously: lines logged while a write is in flight go out together in
  // the next one, instead of one blocking write(2) per line on the request path (bench/).
  // pino flushes what is left when the process exits.
  return pino(loggerOptions(settings), destination ?? pino.destination({ dest: 1, sync: false }));
}
