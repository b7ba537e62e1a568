/**
 * POST /v2/models/{m}[/versions/{v}]/generate and generate_stream (shared/triton-protocol.md §10).
 * generate needs exactly one data response; generate_stream sends each as `data: <json>\n\n`,
 * a mid-stream error as `data: {"error": ...}` with the status left at 200, and no [DONE].
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorCore } from '../engine/simulator-core.js';
import type { ResponseHead, ResponseSink } from '../engine/response-sink.js';
import type { OutputTensor } from '../engine/output-tensor.js';
import type { Run } from '../engine/run.js';
import { SimError, httpStatusFor } from '../protocol/sim-error.js';
import { generateRequest, generateResponse } from './generate-mapping.js';
import { readJson, sendError, sendJson } from './respond.js';

const ONE_RESPONSE =
  'generate expects model to produce exactly 1 response, use generate stream for model that generates various number of responses';

export async function handleGenerate(
  core: SimulatorCore,
  req: IncomingMessage,
  res: ServerResponse,
  modelName: string,
  version: string,
  stream: boolean,
): Promise<void> {
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (err) {
    return sendError(res, 400, `failed to parse the request JSON buffer: ${(err as Error).message}`);
  }
  let wire;
  try {
    const served = core.repository.resolve(modelName, version);
    wire = generateRequest(body ?? {}, served.model, modelName, version);
  } catch (err) {
    const e = err instanceof SimError ? err : undefined;
    return sendError(res, e ? httpStatusFor(e.code) : 400, (err as Error).message);
  }

  let finished = false;
  let started = false;
  const collected: Array<{ head: ResponseHead; outputs: OutputTensor[] }> = [];
  const sse = (payload: unknown) => {
    if (!started) {
      started = true;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    }
    res.write(`data: ${JSON.stringify(payload)}\n\n`);
  };
  const finish = (fn: () => void) => {
    if (finished) return;
    finished = true;
    fn();
  };
  const sink: ResponseSink = {
    data(head, outputs) {
      if (finished) return;
      if (stream) sse(generateResponse(head, outputs));
      else collected.push({ head, outputs });
    },
    flagOnlyFinal() {},
    error(_head, err) {
      finish(() => {
        if (stream && started) {
          sse({ error: err.message });
          res.end();
        } else {
          sendError(res, httpStatusFor(err.code), err.message);
        }
      });
    },
    endCall(code) {
      if (code !== 'OK') finish(() => res.destroy());
    },
    done() {
      finish(() => {
        if (stream) {
          if (!started) res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
          res.end();
        } else if (collected.length === 1) {
          sendJson(res, 200, generateResponse(collected[0]!.head, collected[0]!.outputs));
        } else {
          sendError(res, 400, ONE_RESPONSE);
        }
      });
    },
  };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  const run: Run | undefined = core.submit(wire, sink, {
    transport: stream ? 'http-generate-stream' : 'http-generate',
    metadata: headers,
    unary: false,
  });
  if (run !== undefined) {
    res.on('close', () => {
      if (!finished) {
        finished = true;
        run.cancel();
      }
    });
  }
}
