/**
 * The least an OpenAI-to-Triton gateway written in Node can do, as a program of its own: parse
 * the POST body, send one ModelStreamInfer built by the gateway's codec, and answer JSON or relay
 * each token as an SSE frame (with the gateway's own one-write SseFrameWriter). No validation,
 * admission, breaker, metrics, tracing or logs. `bench/relay-floor.ts` runs it next to the
 * gateway to show what of the gateway's overhead is Node, HTTP and gRPC on this machine and what
 * is the gateway (bench/HISTORY.md, the floor: a bare relay).
 *
 *   npx tsx bench/bare-relay-process.ts --grpc 127.0.0.1:8001 --model llama-3-8b-trtllm
 *
 * Listens on 127.0.0.1 (a free port) and prints one ready line: `bare-relay ready url=<url>`.
 * Not a server to deploy: it trusts its input and has no limits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { credentials, Metadata } from '@grpc/grpc-js';
import { SseFrameWriter } from '../src/routes/sse-writer.js';
import { channelOptions } from '../src/triton/channel.js';
import { TritonClient } from '../src/triton/client.js';
import { decodeResponse, encodeRequest } from '../src/triton/codec.js';
import { describeModel } from '../src/triton/discovery.js';
import type { ModelStreamInferResponse } from '../src/triton/generated/grpc_service.js';
import { installFlatCallTables } from '../src/triton/flat-call-tables.js';
import { installLeanAsyncResourceBind } from '../src/triton/lean-async-resource-bind.js';
import { InferenceServiceClient } from '../src/triton/service-client.js';
import type { GenerationDelta, ModelSchema } from '../src/triton/types.js';

const { values } = parseArgs({ options: { grpc: { type: 'string' }, model: { type: 'string' } } });
if (!values.grpc || !values.model) {
  process.stderr.write('usage: tsx bench/bare-relay-process.ts --grpc HOST:PORT --model TRITON_MODEL\n');
  process.exit(2);
}
const tritonModel = values.model;
// As the gateway does (src/server.ts), so the floor and the gateway run on the same Node.
installLeanAsyncResourceBind();
installFlatCallTables();
const admin = new TritonClient({ target: values.grpc });
const schema: ModelSchema = await describeModel(admin, tritonModel).finally(() => admin.close());
const stub = new InferenceServiceClient(values.grpc, credentials.createInsecure(), channelOptions());
let ids = 0;

/**
 * One generation: `onDelta` for each response until the final one; rejects on any failure. The
 * call is cancelled when the response closes first (the client went away).
 */
function generate(body: { prompt: string; max_tokens: number; stream?: boolean }, onDelta: (delta: GenerationDelta) => void, cancelOn: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = stub.modelStreamInfer(new Metadata());
    const onClose = (): void => call.cancel();
    cancelOn.once('close', onClose);
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      cancelOn.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    call.on('data', (res: ModelStreamInferResponse) => {
      if (res.errorMessage !== '') return finish(new Error(res.errorMessage));
      const delta = decodeResponse(schema, res.inferResponse!);
      onDelta(delta);
      if (delta.final) finish();
    });
    call.on('error', (err: Error) => finish(err));
    call.on('end', () => finish(new Error('stream ended without a final response')));
    call.write(encodeRequest(schema, { prompt: body.prompt, maxTokens: body.max_tokens, stream: body.stream === true, echo: false }, `bare-${++ids}`));
    call.end();
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw = '';
  req.setEncoding('utf8');
  for await (const part of req) raw += part as string;
  const body = JSON.parse(raw) as { model: string; prompt: string; max_tokens: number; stream?: boolean };
  const id = `cmpl-bare-${ids + 1}`;
  if (body.stream !== true) {
    let text = '';
    await generate(body, (d) => (text += d.text), res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, object: 'text_completion', model: body.model, choices: [{ index: 0, text, finish_reason: 'length' }] }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const out = new SseFrameWriter(res);
  await generate(
    body,
    (d) => {
      if (d.text !== '') void out.write(`data: ${JSON.stringify({ id, object: 'text_completion', model: body.model, choices: [{ index: 0, text: d.text }] })}\n\n`);
    },
    res,
  );
  out.end('data: [DONE]\n\n');
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(String(err instanceof Error ? err.message : err));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`bare-relay ready url=http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
const stop = (): void => {
  server.close();
  server.closeAllConnections();
  stub.close();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
