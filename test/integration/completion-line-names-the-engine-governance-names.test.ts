/**
 * The completion log line and the governance events name the same engine: both read Triton's
 * model config parameters with the same keys (engine_sha256, quant_mode, manifest_hash as well
 * as engine_hash, quantisation, manifest), so a deployment that uses the other spellings is not
 * logged as engine-less while its llm_engine_published names the engine.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const TOKEN = 'engine-names-admin-token-1234';
let stack: Stack;

// startStack gives the gateway a fresh governance event log of its own.
before(async () => {
  stack = await startStack({
    sim: { models: [{ name: 'alt', flavour: 'vllm', parameters: { engine_sha256: 'sha256:alt-spelling', quant_mode: 'int4_awq', manifest_hash: 'manifest-7' } }] },
    config: { models: [{ name: 'alt-model', tritonModel: 'alt' }], auth: { adminToken: TOKEN } },
  });
});
after(async () => stack?.close());

test("the completion line names the engine that llm_engine_published names, whatever the parameters' spelling", async () => {
  const published = async () => {
    const res = await fetch(`${stack.url}/admin/events?type=llm_engine_published`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return ((await res.json()) as { events: Array<Extract<GovernanceEvent, { event: 'llm_engine_published' }>> }).events;
  };
  await eventually(async () => (await published()).length === 1, 5_000, 'the engine published at start-up');
  const [event] = await published();
  assert.deepEqual([event!.engine.engine_hash, event!.engine.quantisation, event!.engine.manifest], ['sha256:alt-spelling', 'int4_awq', 'manifest-7']);

  const res = await fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'alt-model', prompt: 'hi', max_tokens: 2 }) });
  assert.equal(res.status, 200);
  await eventually(() => stack.logs.find('request completed').length > 0, 2_000, 'the completion line');
  const line = stack.logs.find('request completed').at(-1)!;
  assert.deepEqual([line.engine_hash, line.quantisation, line.engine_manifest], [event!.engine.engine_hash, event!.engine.quantisation, event!.engine.manifest]);
});
