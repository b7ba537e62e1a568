/**
 * With no models configured the gateway discovers Triton's ready LLM models and serves them
 * under their own names; a bad config is refused at start-up with every problem listed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startStack } from '../helpers/stack.js';

test('env alone (TRITON_GRPC_URL) serves every ready LLM model of that Triton', async (t) => {
  const stack = await startStack({ config: { models: [] } });
  t.after(() => stack.close());
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const ids = (await client.models.list()).data.map((m) => m.id).sort();
  const llms = Object.keys(stack.sim.state().models).filter((m) => m !== 'tiny-identity').sort();
  assert.deepEqual(ids, llms, 'the non-LLM model is not served');
  for (const id of ids) {
    const res = await client.completions.create({ model: id, prompt: 'hello there', max_tokens: 3 });
    assert.equal(res.model, id);
    assert.ok(res.choices[0]!.text.length > 0);
    // The LLM-API model has no token-count outputs: usage is left out rather than guessed.
    if (id.includes('llmapi')) assert.equal(res.usage, undefined);
    else assert.equal(res.usage?.completion_tokens, 3);
  }
});

test('a bad config exits non-zero and lists every problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bad-'));
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, 'server:\n  port: nope\nmodels:\n  - name: a\n    fallbacks: [ghost]\n    colour: blue\n');
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, GATEWAY_CONFIG: path, GATEWAY_EVENT_LOG: join(dir, 'events.jsonl') }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(res.status, 2, res.stderr);
  for (const problem of ['server.port', 'models.0', 'colour', 'models.0.fallbacks.0', 'TRITON_GRPC_URL']) assert.ok(res.stderr.includes(problem), `${problem} in:\n${res.stderr}`);
  assert.ok(!/\n\s+at /.test(res.stderr), 'no stack trace');
});
