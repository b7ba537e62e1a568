import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestAccounting } from '../../../src/plugins/observability.js';

function accounting(): { acc: RequestAccounting; recorded: Array<[number, boolean]> } {
  const recorded: Array<[number, boolean]> = [];
  return { acc: new RequestAccounting((status, clientGone) => recorded.push([status, clientGone])), recorded };
}

test('a finished response is recorded once with its status, whatever follows', () => {
  const { acc, recorded } = accounting();
  acc.settled();
  acc.responseFinished(200);
  acc.clientClosed();
  acc.responseFinished(200);
  assert.deepEqual(recorded, [[200, false]]);
});

test('a client that left is recorded as 499 only once the route has settled', () => {
  const { acc, recorded } = accounting();
  acc.clientClosed();
  assert.deepEqual(recorded, [], 'the route may still record its error, usage and cost');
  acc.settled();
  assert.deepEqual(recorded, [[499, true]]);
  acc.responseFinished(200);
  acc.settled();
  assert.deepEqual(recorded, [[499, true]], 'never twice');
});

test('a route that settled before the client left is recorded at the close', () => {
  const { acc, recorded } = accounting();
  acc.settled();
  assert.deepEqual(recorded, []);
  acc.clientClosed();
  assert.deepEqual(recorded, [[499, true]]);
});
