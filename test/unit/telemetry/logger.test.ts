/**
 * The two shortcuts past pino on the request path (telemetry/logger.ts) must write exactly what
 * pino writes: the "request completed" line, and the request id of fastify's per-request child
 * logger, with redaction intact for everything else. And stdout, written in 4 KB chunks, still
 * gets a lone line within the flush interval and every line at exit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import pino from 'pino';
import { completionLineWriter, createLogger, requestChildLogger } from '../../../src/telemetry/logger.js';

function capture(): { lines: string[]; stream: { write(s: string): void } } {
  const lines: string[] = [];
  return { lines, stream: { write: (s: string) => void lines.push(s) } };
}

/** pino's time differs by the millisecond the line was written; everything else must not. */
const withoutTime = (line: string): string => line.replace(/"time":"[^"]+"/, '"time":"T"');

const fields = {
  reqId: 'req-7',
  trace_id: '0af7651916cd43dd8448eb211c80319c',
  model: 'llama-3-8b',
  served_model: 'llama "3"\n8b\u2028é🦙',
  stream: false,
  status: 200,
  duration_ms: 2.345,
  queue_delay_us: null,
  tokens_in: 12,
  not_finite: Number.NaN,
  kv_cache_reuse: { hits: 3, misses: 1 },
  speculative: null,
  cost_usd: 0.0000312,
  skipped: undefined,
  warning: null,
};

test('the completion line is byte for byte the line pino writes, apart from the time', () => {
  const { lines, stream } = capture();
  const log = createLogger({ level: 'info', logPrompts: false }, stream);
  log.child({}).info(fields, 'request completed');
  const write = completionLineWriter(log.child({ reqId: 'ignored' }));
  assert.ok(write, 'found through the child');
  write(fields);
  assert.equal(lines.length, 2);
  assert.equal(withoutTime(lines[1]!), withoutTime(lines[0]!));
  const parsed = JSON.parse(lines[1]!);
  assert.match(parsed.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(parsed.level, 'info');
  assert.equal(parsed.msg, 'request completed');
  assert.ok(!('skipped' in parsed));
  assert.ok(lines[1]!.endsWith('}\n'));
});

test('the completion line follows the logger level', () => {
  const { lines, stream } = capture();
  const log = createLogger({ level: 'warn', logPrompts: false }, stream);
  const write = completionLineWriter(log)!;
  write(fields);
  assert.equal(lines.length, 0, 'not written at level warn');
  log.level = 'info';
  write(fields);
  assert.equal(lines.length, 1, 'written once the level allows info');
});

test('a destination that needs each line’s metadata (multistream) gets the line through pino', () => {
  const { lines, stream } = capture();
  const log = createLogger({ level: 'info', logPrompts: false }, pino.multistream([{ stream }]));
  completionLineWriter(log)!(fields);
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]!).served_model, fields.served_model);
});

test('a logger not made by createLogger has no completion writer', () => {
  assert.equal(completionLineWriter(pino({ level: 'silent' })), undefined);
});

test('the per-request child logger writes the request id as pino does, and still redacts', () => {
  const { lines, stream } = capture();
  const log = createLogger({ level: 'info', logPrompts: false }, stream);
  const reqId = 'id "with" quotes\\';
  log.child({ reqId }).warn({ headers: { authorization: 'Bearer sk-secret' }, nested: { apiKey: 'sk-2' }, prompt: 'PROMPT' }, 'upstream slow');
  const child = requestChildLogger(log, { reqId }, {});
  child.warn({ headers: { authorization: 'Bearer sk-secret' }, nested: { apiKey: 'sk-2' }, prompt: 'PROMPT' }, 'upstream slow');
  assert.equal(withoutTime(lines[1]!), withoutTime(lines[0]!));
  assert.ok(!lines[1]!.includes('sk-secret') && !lines[1]!.includes('sk-2') && !lines[1]!.includes('PROMPT'), 'redacted');
  assert.equal(JSON.parse(lines[1]!).reqId, reqId);
  assert.deepEqual(child.bindings(), { service: 'triton-gateway', reqId });
});

test('the per-request child logger takes pino’s own path for other bindings or options', () => {
  const { lines, stream } = capture();
  const log = createLogger({ level: 'info', logPrompts: false }, stream);
  requestChildLogger(log, { reqId: 'a', route: '/v1/completions' }, {}).info('two bindings');
  requestChildLogger(log, { reqId: 'b' }, { level: 'error' }).info('filtered by the child level');
  requestChildLogger(log, { reqId: 7 }, {}).info('a number id');
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)).map(({ reqId, route, msg }) => ({ reqId, route, msg })),
    [
      { reqId: 'a', route: '/v1/completions', msg: 'two bindings' },
      { reqId: 7, route: undefined, msg: 'a number id' },
    ],
  );
});

test('stdout gets a lone line within the flush interval, and the last line at an immediate exit', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/stdout-logger-child.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stdoutAtCheckpoint: string | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (chunk.includes('checkpoint')) stdoutAtCheckpoint ??= stdout;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  assert.match(stdoutAtCheckpoint ?? '', /"msg":"first line"/, 'the first line was written before the checkpoint, though far short of 4 KB');
  assert.doesNotMatch(stdoutAtCheckpoint ?? '', /last line/);
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; n: number });
  assert.deepEqual(lines.map((l) => [l.msg, l.n]), [['first line', 1], ['last line', 2]], 'nothing lost at exit');
});

test('prompt, completion and messages are redacted also when nested under another key', () => {
  // How request text reaches a log line in practice: inside an error's or a request's object.
  const nested = {
    request: { prompt: 'PROMPT-CANARY-1' },
    err: { messages: [{ role: 'user', content: 'MESSAGES-CANARY-2' }] },
    upstream: { completion: 'COMPLETION-CANARY-3' },
  };
  const canaries = ['PROMPT-CANARY-1', 'MESSAGES-CANARY-2', 'COMPLETION-CANARY-3'];
  const redacted = capture();
  createLogger({ level: 'info', logPrompts: false }, redacted.stream).warn(nested, 'upstream refused');
  assert.equal(redacted.lines.length, 1);
  for (const canary of canaries) assert.ok(!redacted.lines[0]!.includes(canary), `${canary} logged: ${redacted.lines[0]}`);
  const line = JSON.parse(redacted.lines[0]!);
  assert.deepEqual([line.request.prompt, line.err.messages, line.upstream.completion], ['[redacted]', '[redacted]', '[redacted]']);
  // With the explicit opt-in the same line keeps the text: the paths, not the shape, hid it.
  const optedIn = capture();
  createLogger({ level: 'info', logPrompts: true }, optedIn.stream).warn(nested, 'upstream refused');
  for (const canary of canaries) assert.ok(optedIn.lines[0]!.includes(canary), `${canary} kept with logPrompts`);
});
