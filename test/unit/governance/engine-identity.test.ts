/**
 * Engine identity: Triton's config parameters win over the gateway config, the tracker counts an
 * engine as new once per (target, model, version, hash), and it remembers what the log recorded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config.js';
import { EngineTracker, engineManifest, schemaVersions, servingVersion } from '../../../src/governance/engine-identity.js';
import { SCHEMA_VERSION, governanceEventSchema, type GovernanceEvent } from '../../../src/governance/events.js';
import type { ModelSchema } from '../../../src/triton/types.js';

const config = parseConfig({
  triton: { targets: [{ name: 't', grpc: '127.0.0.1:1' }] },
  models: [
    { name: 'llama', tritonModel: 'llama-trt', engine: { hash: 'cfg-hash', quantisation: 'int8', manifest: 'sha256:abc' } },
    { name: 'bare' },
  ],
});
const llama = { config: config.models[0]!, tritonModel: 'llama-trt', upstream: { name: 't' }, servedVersion: '' };
const bare = { config: config.models[1]!, tritonModel: 'bare', upstream: { name: 't' }, servedVersion: '' };

function schema(versions: string[], parameters: Record<string, string>): ModelSchema {
  return { name: 'x', versions, platform: '', backend: '', flavour: 'trtllm', maxBatchSize: 1, decoupled: true, inputs: new Map(), outputs: new Map(), parameters };
}

test("Triton's model config parameters win; the gateway config fills in when Triton has none", () => {
  const fromTriton = engineManifest(llama, schema(['1', '2'], { engine_hash: 'sha256:t', quantization: 'fp8', schema_id: 'answers' }));
  assert.deepEqual(fromTriton, {
    model: 'llama', triton_model: 'llama-trt', target: 't', version: '2', engine_hash: 'sha256:t', quantisation: 'fp8', manifest: 'sha256:abc', source: 'triton',
  });
  const fromConfig = engineManifest(llama, schema(['3'], {}));
  assert.equal(fromConfig.engine_hash, 'cfg-hash');
  assert.equal(fromConfig.quantisation, 'int8');
  assert.equal(fromConfig.source, 'config');
  assert.equal(engineManifest(bare, undefined).source, 'none');
  assert.equal(servingVersion({ ...llama, servedVersion: '1' }, schema(['1', '2'], {})), '1', 'a pin wins over the latest');
  assert.deepEqual(schemaVersions(schema(['1'], { schema_id: 'answers', schema_version: '7' })), { model_versions: ['1'], schema_id: 'answers', schema_version: '7' });
});

test('the tracker counts an engine as new once, and learns from recorded events', () => {
  const v2 = engineManifest(llama, schema(['2'], { engine_hash: 'h2' }));
  const tracker = new EngineTracker();
  assert.equal(tracker.isNew(v2), true);
  tracker.remember(v2);
  assert.equal(tracker.isNew(v2), false);
  assert.equal(tracker.isNew({ ...v2, engine_hash: 'h2b' }), true, 'same version, new hash');
  assert.equal(tracker.isNew({ ...v2, version: '3' }), true, 'new version');

  const base = { schema_version: SCHEMA_VERSION, id: 'x', at: new Date().toISOString(), instance: 'h:1' } as const;
  const events: GovernanceEvent[] = [
    { ...base, event: 'llm_engine_published', model: 'llama', engine: v2, previous: null },
    { ...base, event: 'llm_rollback_completed', model: 'llama', from_version: '2', to_version: '1', previous: v2, restored: { ...v2, version: '1', engine_hash: 'h1' }, actor: 'a', reason: null, warmup_duration_ms: 1, warning: null },
  ];
  for (const e of events) governanceEventSchema.parse(e);
  const seeded = new EngineTracker();
  seeded.seed(events);
  assert.equal(seeded.isNew(v2), false);
  assert.equal(seeded.isNew({ ...v2, version: '1', engine_hash: 'h1' }), false);
  assert.equal(seeded.current('llama')?.version, '1');
});

test('every event needs its envelope; unknown kinds and extra fields are refused', () => {
  const ok = { schema_version: 1, id: 'e1', at: '2025-11-18T14:30:00.000Z', instance: 'h:1', event: 'llm_waiver_recorded', waiver_id: 'w', model: 'm', signal: 'cost', reason: 'launch week', actor: 'alice', expires_at: '2025-11-19T14:30:00.000Z' };
  assert.equal(governanceEventSchema.parse(ok).event, 'llm_waiver_recorded');
  assert.throws(() => governanceEventSchema.parse({ ...ok, schema_version: 2 }));
  assert.throws(() => governanceEventSchema.parse({ ...ok, event: 'llm_something_else' }));
  assert.throws(() => governanceEventSchema.parse({ ...ok, surprise: true }));
  const { at: _at, ...noTime } = ok;
  assert.throws(() => governanceEventSchema.parse(noTime));
});

test('an engine a roll forward noted but never activated is forgotten: new again, and the one before is current', () => {
  const tracker = new EngineTracker();
  const serving = engineManifest(llama, schema(['1'], { engine_hash: 'sha256:one' }));
  const candidate = engineManifest({ ...llama, servedVersion: '2' }, schema(['1', '2'], { engine_hash: 'sha256:two' }), '2');
  tracker.remember(serving);
  tracker.remember(candidate);
  assert.equal(tracker.isNew(candidate), false);
  tracker.forget(candidate, serving);
  assert.equal(tracker.isNew(candidate), true, 'published when it does go into service');
  assert.equal(tracker.current('llama'), serving);
  assert.equal(tracker.isNew(serving), false);
});
