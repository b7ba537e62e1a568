/**
 * A warm-up that keeps failing while the registry retries it is recorded once, even when the
 * reason carries a duration that changes on every retry; a different failure, or one after a
 * success, is recorded again. A rollback's candidate version failing is an operator's attempt,
 * recorded every time.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../../src/config.js';
import { EngineTracker } from '../../../src/governance/engine-identity.js';
import { EngineWatch } from '../../../src/governance/engine-watch.js';
import { EventLog } from '../../../src/governance/event-log.js';
import { GovernanceRecorder } from '../../../src/governance/recorder.js';
import type { ModelEntry } from '../../../src/inference/model-registry.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const config = parseConfig({
  triton: { targets: [{ name: 't', grpc: '127.0.0.1:1' }] },
  models: [{ name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', version: '1', warmup: { prompt: 'Say hello.', maxTokens: 4, latencyBudgetMs: 300 } }],
});
// recordWarmup reads only these fields; the upstream only for its name.
const entry = { config: config.models[0]!, tritonModel: 'llama-3-8b-trtllm', upstream: { name: 't' }, servedVersion: '' } as unknown as Pick<
  ModelEntry,
  'config' | 'tritonModel' | 'upstream' | 'servedVersion'
>;

let dir: string;
let recorder: GovernanceRecorder;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engine-watch-'));
  recorder = new GovernanceRecorder(new EventLog(join(dir, 'events.jsonl')), quiet);
  await recorder.open();
});
after(async () => {
  await recorder.close();
  await rm(dir, { recursive: true, force: true });
});

async function failures(): Promise<string[]> {
  const read = await recorder.log.read({ type: 'llm_warmup_failed' });
  return read.events.map((e) => (e.event === 'llm_warmup_failed' ? e.reason : ''));
}

test('retries failing for the same reason with different durations are one llm_warmup_failed', async () => {
  const watch = new EngineWatch(recorder, new EngineTracker(), quiet, new Set());
  await watch.recordWarmup(entry, undefined, { passed: false, reason: 'took 312 ms, budget 300 ms', durationMs: 312.4 });
  await watch.recordWarmup(entry, undefined, { passed: false, reason: 'took 347 ms, budget 300 ms', durationMs: 347.9 });
  await watch.recordWarmup(entry, undefined, { passed: false, reason: 'took 1205.5 ms, budget 300 ms', durationMs: 1205.5 });
  assert.deepEqual(await failures(), ['took 312 ms, budget 300 ms']);

  await watch.recordWarmup(entry, undefined, { passed: false, reason: 'upstream_unavailable: connection refused', durationMs: 2 });
  assert.equal((await failures()).length, 2, 'a different failure is recorded');

  await watch.recordWarmup(entry, undefined, { passed: true, durationMs: 20, completionTokens: 4 });
  await watch.recordWarmup(entry, undefined, { passed: false, reason: 'upstream_unavailable: connection refused', durationMs: 3 });
  assert.equal((await failures()).length, 3, 'the same failure after a success is a new one');
});

test("each failed warm-up of a rollback's candidate version is recorded, and leaves the registry's deduplication alone", async () => {
  const watch = new EngineWatch(recorder, new EngineTracker(), quiet, new Set());
  const before = (await failures()).length;
  const refused = { passed: false, reason: 'upstream_internal: engine v2 corrupt', durationMs: 5 };
  await watch.recordWarmup(entry, undefined, refused, '2');
  await watch.recordWarmup(entry, undefined, refused, '2');
  assert.equal((await failures()).length, before + 2, 'two rollback attempts, two events');
  await watch.recordWarmup(entry, undefined, refused);
  await watch.recordWarmup(entry, undefined, refused);
  assert.equal((await failures()).length, before + 3, "the registry's retries still count once");
});
