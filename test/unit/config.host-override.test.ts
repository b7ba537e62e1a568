/**
 * HOST sets the listen address over the file's server.host (a container listens on 0.0.0.0
 * whatever the file says); unset, the file's value stands.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.js';

const file = { server: { host: '127.0.0.1', port: 8080 }, triton: { targets: [{ name: 't', grpc: 'triton:8001' }] } };

test('HOST overrides server.host; without it the file decides', () => {
  assert.equal(parseConfig(file, { HOST: '0.0.0.0' }).server.host, '0.0.0.0');
  assert.equal(parseConfig(file, { HOST: '::' }).server.port, 8080, 'the port is left alone');
  assert.equal(parseConfig(file, {}).server.host, '127.0.0.1');
});
