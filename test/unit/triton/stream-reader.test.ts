/**
 * A caller that stops reading (its client's socket is full) must not make the reader hold the
 * rest of a long generation: past a small queue the call is paused, so grpc-js stops reading the
 * HTTP/2 stream and flow control holds Triton back. The call here is a stand-in with grpc-js's
 * stream interface (an object-mode duplex); the reader is the real one.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { ModelInferRequest, ModelStreamInferResponse } from '../../../src/triton/generated/grpc_service.js';
import { MAX_QUEUED_RESPONSES, StreamReader } from '../../../src/triton/stream-reader.js';

function response(i: number): ModelStreamInferResponse {
  return { errorMessage: '', inferResponse: { modelName: 'm', modelVersion: '1', id: String(i), parameters: {}, outputs: [], rawOutputContents: [] } };
}

test('a reader whose caller stops reading pauses the call, then resumes it and delivers everything in order', async () => {
  const call = new PassThrough({ objectMode: true, highWaterMark: 4 });
  const reader = new StreamReader(call as unknown as ClientDuplexStream<ModelInferRequest, ModelStreamInferResponse>, undefined);
  const total = MAX_QUEUED_RESPONSES * 4;
  for (let i = 0; i < total; i++) call.write(response(i));
  await new Promise((r) => setImmediate(r));

  assert.equal(call.isPaused(), true, 'paused once the queue was full');
  const waiting = call.readableLength + call.writableLength;
  assert.ok(waiting >= total - MAX_QUEUED_RESPONSES, `the rest waits in the call (${waiting} of ${total}), not in the reader`);

  const ids: string[] = [];
  for (let i = 0; i < total; i++) ids.push((await reader.next()).inferResponse!.id);
  assert.deepEqual(ids, Array.from({ length: total }, (_, i) => String(i)));
  assert.equal(call.readableLength + call.writableLength, 0);
  reader.close(true);
});
