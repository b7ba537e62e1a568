import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import type { GRPCInferenceServiceClient } from '../../src/triton/generated/grpc_service.js';
import { connect, dataResponses, runStream, trtllmRequest, unary } from './sim-client.js';

describe('model repository: index, load and unload with versions', () => {
  let sim: RunningSimulator;
  let client: GRPCInferenceServiceClient;
  before(async () => {
    sim = await startSimulator({
      models: [
        {
          name: 'ens',
          flavour: 'ensemble',
          versions: [1, 2],
          versionParameters: { '1': { engine_hash: 'old' }, '2': { engine_hash: 'new' } },
        },
        { name: 'standby', flavour: 'identity', loaded: false },
      ],
    });
    client = connect(sim.grpcAddress);
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  const index = async () => (await unary(client, 'repositoryIndex', { repositoryName: '', ready: false })).models;
  const config = (version = '') => unary(client, 'modelConfig', { name: 'ens', version });
  const infer = async (version = '') => {
    const req = trtllmRequest('ens', 'r', { prompt: 'hello', maxTokens: 1 });
    req.modelVersion = version;
    return runStream(client, [req]);
  };
  const load = (name: string, configJson?: string) =>
    unary(client, 'repositoryModelLoad', {
      repositoryName: '',
      modelName: name,
      parameters: configJson === undefined ? {} : { config: { stringParam: configJson } },
    });
  const unload = (name: string) => unary(client, 'repositoryModelUnload', { repositoryName: '', modelName: name, parameters: {} });
  const failure = (p: Promise<unknown>) => p.then(() => assert.fail('expected an error'), (e: unknown) => e as ServiceError);

  test('RepositoryIndex lists every version with its state; the highest version is served', async () => {
    assert.deepEqual(await index(), [
      { name: 'ens', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
      { name: 'ens', version: '2', state: 'READY', reason: '' },
      { name: 'standby', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
    ]);
    const ready = await unary(client, 'repositoryIndex', { repositoryName: '', ready: true });
    assert.deepEqual(ready.models.map((m) => `${m.name}/${m.version}`), ['ens/2']);
    assert.equal(dataResponses(await infer())[0]!.modelVersion, '2');
    assert.equal((await config()).config?.parameters.engine_hash?.stringValue, 'new');
    const notReady = (await infer('1')).responses[0]!.errorMessage;
    assert.equal(notReady, "Request for unknown model: 'ens' version 1 is not at ready state");
  });

  test('a load with a version_policy config override pins the served version', async () => {
    await load('ens', JSON.stringify({ version_policy: { specific: { versions: [1] } } }));
    assert.equal(dataResponses(await infer())[0]!.modelVersion, '1');
    assert.equal((await config()).config?.parameters.engine_hash?.stringValue, 'old');
    assert.deepEqual((await unary(client, 'modelMetadata', { name: 'ens', version: '' })).versions, ['1']);
    await load('ens');
    assert.equal(dataResponses(await infer())[0]!.modelVersion, '2');
  });

  test('after an unload inference fails with "has no available versions" and a second unload is refused', async () => {
    await unload('ens');
    const r = await infer();
    assert.equal(r.responses[0]!.errorMessage, "Request for unknown model: 'ens' has no available versions");
    const ready = await failure(unary(client, 'modelReady', { name: 'ens', version: '' }));
    assert.equal(ready.code, status.NOT_FOUND);
    assert.equal(sim.state().models.ens!.loaded, false);
    const again = await failure(unload('ens'));
    assert.equal(again.code, status.INVALID_ARGUMENT);
    assert.equal(again.details, 'Model to be unloaded has not been served');
    await load('ens');
    assert.equal(dataResponses(await infer()).length, 1);
  });

  test('loading a model that is not in the repository is INTERNAL; a standby model can be loaded', async () => {
    const err = await failure(load('ghost'));
    assert.equal(err.code, status.INTERNAL);
    assert.equal(err.details, "failed to load 'ghost', failed to poll from model repository");
    const bad = await failure(load('ens', JSON.stringify({ version_policy: { specific: { versions: [9] } } })));
    assert.equal(bad.code, status.INTERNAL);
    await load('standby');
    assert.deepEqual(await unary(client, 'modelReady', { name: 'standby', version: '' }), { ready: true });
  });
});
