/**
 * withoutCallerStack: calls start without V8 capturing a stack, the caller's limit comes back
 * whatever happens, and grpc-js, against the simulator, no longer carries a captured caller stack
 * into a failed call's error (the capture this saves is per call).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { startSimulator } from '../../../sim/index.js';
import { InferenceServiceClient } from '../../../src/triton/service-client.js';
import { withoutCallerStack } from '../../../src/triton/without-caller-stack.js';

const frames = (stack: string | undefined): number => (stack ?? '').split('\n').filter((line) => line.startsWith('    at ')).length;

test('an Error made inside has no frames; the result passes through; the limit comes back', () => {
  const before = Error.stackTraceLimit;
  Error.stackTraceLimit = 7;
  try {
    assert.ok(frames(new Error('outside').stack) > 0);
    const inner = withoutCallerStack(() => new Error('inside'));
    assert.equal(frames(inner.stack), 0);
    assert.equal(Error.stackTraceLimit, 7);
    assert.throws(() => withoutCallerStack(() => { throw new TypeError('boom'); }), TypeError);
    assert.equal(Error.stackTraceLimit, 7, 'restored after the start threw');
  } finally {
    Error.stackTraceLimit = before;
  }
});

test('a grpc-js call started inside fails without a captured caller stack; one started outside carries it', async (t) => {
  const sim = await startSimulator({ grpcPort: 0, httpPort: 0, metricsPort: 0 });
  t.after(() => sim.stop());
  const stub = new InferenceServiceClient(sim.grpcAddress, credentials.createInsecure());
  t.after(() => stub.close());
  const failedCall = (wrap: <T>(start: () => T) => T): Promise<ServiceError> =>
    new Promise((resolve, reject) => {
      wrap(() => stub.modelMetadata({ name: 'no-such-model', version: '' }, new Metadata(), (err) => (err ? resolve(err) : reject(new Error('the call succeeded')))));
    });
  const plain = await failedCall((start) => start());
  const wrapped = await failedCall(withoutCallerStack);
  assert.equal(plain.code, wrapped.code, 'the same failure either way');
  const callerPart = (err: ServiceError): string => (err.stack ?? '').split('\nfor call at\n')[1] ?? '';
  assert.ok(frames(callerPart(plain)) > 0, `grpc-js still captures the caller's stack when a call starts:\n${plain.stack}`);
  assert.equal(frames(callerPart(wrapped)), 0, wrapped.stack);
});
