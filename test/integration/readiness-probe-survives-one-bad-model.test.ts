/**
 * The readiness probe (/readyz) answers for the replica, not for each model: one model failing
 * its warm-up leaves the replica in the Service while another model (or a fallback) serves, and
 * only the strict view (/readyz?strict=1) names the model. With no model servable, or no Triton
 * target ready, the probe turns 503. Every replica warms up against the same Triton, so a probe
 * that failed on one bad model would take all of them out at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const token = 'admin-token-for-readiness-0123';
const models = [
  { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', fallbacks: ['qwen3'] },
  { name: 'qwen3', tritonModel: 'qwen3-vllm' },
];
const broken = { kind: 'error', code: 'INTERNAL', message: 'engine broken' } as const;

interface Readyz {
  status: number;
  body: { status: string; reasons: string[]; degraded?: string[] };
}

async function readyz(stack: Stack, query = ''): Promise<Readyz> {
  const res = await fetch(`${stack.url}/readyz${query}`);
  return { status: res.status, body: (await res.json()) as Readyz['body'] };
}

async function admin(stack: Stack, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function withStack(run: (stack: Stack) => Promise<void>, config = models): Promise<void> {
  // A long warm-up retry keeps a failed model failed for the length of a test.
  const stack = await startStack({ config: { models: config, triton: { warmupRetryMaxMs: 60_000 } }, env: { GATEWAY_ADMIN_TOKEN: token } });
  try {
    await run(stack);
  } finally {
    await stack.close();
  }
}

test("one model's failed warm-up leaves the probe at 200 while another serves; the strict view names it", () =>
  withStack(async (stack) => {
    stack.sim.setFault('qwen3-vllm', broken);
    assert.equal((await stack.app.services.registry.rewarm('qwen3')).passed, false);

    const probe = await readyz(stack);
    assert.equal(probe.status, 200, JSON.stringify(probe.body));
    assert.equal(probe.body.status, 'ready');
    assert.ok(probe.body.degraded?.some((r) => r.includes('qwen3') && r.includes('warmup_failed')), JSON.stringify(probe.body));

    const strict = await readyz(stack, '?strict=1');
    assert.equal(strict.status, 503);
    assert.equal(strict.body.status, 'not_ready');
    assert.ok(strict.body.reasons.includes('model qwen3 warmup_failed'), strict.body.reasons.join('; '));
    // /readyz answers without a token: Triton's own text stays behind it, in the diagnostics.
    assert.ok(!JSON.stringify([probe.body, strict.body]).includes('engine broken'), JSON.stringify([probe.body, strict.body]));
    const diagnostics = await fetch(`${stack.url}/debug/diagnostics`, { headers: { authorization: `Bearer ${token}` } });
    const qwen = ((await diagnostics.json()) as { models: { name: string; lastError: string | null }[] }).models.find((m) => m.name === 'qwen3');
    assert.match(qwen?.lastError ?? '', /engine broken/);

    assert.equal((await complete(stack.url, { model: 'llama-3-8b', prompt: 'hi', max_tokens: 2 })).status, 200);
  }));

// Each model falls back to the other, so qwen3 can be forced onto its fallback.
const eachOthersFallback = [models[0]!, { ...models[1]!, fallbacks: ['llama-3-8b'] }];

test('a model that only its fallback can serve keeps the replica ready; none left turns the probe 503', () =>
  withStack(async (stack) => {
    stack.sim.setFault('llama-3-8b-trtllm', broken);
    assert.equal((await stack.app.services.registry.rewarm('llama-3-8b')).passed, false);
    // qwen3 takes no traffic of its own (forced onto the failed llama-3-8b), but llama-3-8b's
    // requests still fall back to it.
    assert.equal(await admin(stack, '/admin/models/qwen3/force-fallback', { enabled: true }), 200);
    assert.equal((await complete(stack.url, { model: 'qwen3', prompt: 'hi', max_tokens: 2 })).status, 503);
    const served = await complete(stack.url, { model: 'llama-3-8b', prompt: 'hi', max_tokens: 2 });
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('x-served-model'), 'qwen3');
    assert.equal((await readyz(stack)).status, 200);

    assert.equal(await admin(stack, '/admin/models/qwen3/disable'), 200);
    const probe = await readyz(stack);
    assert.equal(probe.status, 503);
    assert.equal(probe.body.status, 'not_ready');
    assert.match(probe.body.reasons[0] ?? '', /no model can serve/);
  }, eachOthersFallback));

test('every model failing its warm-up turns the probe 503, and it recovers with them', () =>
  withStack(async (stack) => {
    stack.sim.setFault('llama-3-8b-trtllm', broken);
    stack.sim.setFault('qwen3-vllm', broken);
    const registry = stack.app.services.registry;
    await Promise.all([registry.rewarm('llama-3-8b'), registry.rewarm('qwen3')]);

    const probe = await readyz(stack);
    assert.equal(probe.status, 503);
    assert.match(probe.body.reasons[0] ?? '', /no model can serve/);
    // The details a person needs come with it.
    assert.ok(probe.body.reasons.some((r) => r.startsWith('model llama-3-8b warmup_failed')), probe.body.reasons.join('; '));
    assert.ok(probe.body.reasons.some((r) => r.startsWith('model qwen3 warmup_failed')), probe.body.reasons.join('; '));
    assert.equal((await readyz(stack, '?strict=1')).status, 503);

    stack.sim.clearFaults();
    assert.equal((await registry.rewarm('qwen3')).passed, true);
    assert.equal((await readyz(stack)).status, 200);
  }));

test('no Triton target ready turns the probe 503', () =>
  withStack(async (stack) => {
    stack.sim.setServerReady(false);
    await eventually(async () => (await readyz(stack)).status === 503, 5000, 'the probe to turn 503');
    const probe = await readyz(stack);
    assert.deepEqual(probe.body.reasons.slice(0, 2), ['no Triton target is ready', 'target primary not ready']);

    stack.sim.setServerReady(true);
    await eventually(async () => (await readyz(stack)).status === 200, 5000, 'the probe to recover');
  }));

test('draining turns both views 503', () =>
  withStack(async (stack) => {
    stack.app.services.lifecycle.draining = true;
    for (const query of ['', '?strict=1']) {
      const probe = await readyz(stack, query);
      assert.equal(probe.status, 503);
      assert.equal(probe.body.status, 'draining');
    }
  }));
