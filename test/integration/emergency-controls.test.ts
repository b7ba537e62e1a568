/**
 * The runbooks' "reduce load" step: token-gated admin calls change limits at run time, every
 * change is audited and shown in diagnostics, and one call reverts them. Also chaos injection,
 * rate limits, the cached degraded mode and anomaly detection.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { complete, completeStream } from '../helpers/openai-http.js';
import { primary, secondary, startResilienceStack } from '../helpers/resilience-stack.js';
import { scrape } from '../helpers/scrape.js';
import { eventually, type Stack } from '../helpers/stack.js';

const token = 'admin-token-for-tests-0123';
const auth = { authorization: `Bearer ${token}`, 'x-actor': 'oncall@example' };
let stack: Stack;

before(async () => {
  stack = await startResilienceStack({
    env: { GATEWAY_ADMIN_TOKEN: token },
    config: { resilience: { cache: { enabled: true, maxEntries: 10, ttlMs: 60_000 }, breaker: { errorThresholdPercentage: 50, volumeThreshold: 1000, resetTimeoutMs: 400, rollingWindowMs: 5000 }, retry: { maxAttempts: 1 } }, anomaly: { windowSize: 50, threshold: 3, minSamples: 10 } },
  });
});
after(async () => stack.close());

async function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('admin endpoints need the token', async () => {
  assert.equal((await admin('GET', '/admin/controls', undefined, {})).status, 401);
  assert.equal((await admin('GET', '/admin/controls', undefined, { authorization: 'Bearer wrong-token-0123456789' })).status, 401);
  assert.equal((await admin('GET', '/admin/controls')).status, 200);
});

test('limits change at run time, are audited, shown in diagnostics and reverted', async () => {
  const patched = await admin('PATCH', '/admin/controls', { maxPromptChars: 10, maxTokensCap: 2, maxInFlight: 7, rateLimitPerMinute: 1000 });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.current.maxPromptChars, 10);

  const tooLong = await complete(stack.url, { model: 'llama-3-8b', prompt: 'this prompt is longer than ten', max_tokens: 5 });
  assert.equal(tooLong.status, 400);
  assert.equal(tooLong.body.error.param, 'prompt');
  const capped = await complete(stack.url, { model: 'llama-3-8b', prompt: 'short', max_tokens: 50 });
  assert.equal(capped.status, 200);
  assert.equal(capped.body.usage.completion_tokens, 2);
  assert.equal(stack.app.services.admission.state.limits.maxInFlight, 7);

  const audit = stack.logs.find('emergency control changed');
  assert.equal(audit.at(-1)!.actor, 'oncall@example');
  assert.equal(audit.at(-1)!.action, 'update_controls');
  const diag = await admin('GET', '/debug/diagnostics');
  assert.equal(diag.body.controls.maxPromptChars, 10);
  assert.equal(diag.body.controls.recentChanges.at(-1).action, 'update_controls');

  const reverted = await admin('POST', '/admin/controls/revert');
  assert.equal(reverted.body.current.maxPromptChars, stack.config.server.maxPromptChars);
  assert.equal(reverted.body.current.maxTokensCap, null);
  assert.equal(reverted.body.current.rateLimitPerMinute, null);
  assert.equal((await complete(stack.url, { model: 'llama-3-8b', prompt: 'this prompt is longer than ten', max_tokens: 5 })).status, 200);
});

test('disabling a model or forcing its fallback moves traffic, and is revertible', async () => {
  assert.equal((await admin('POST', '/admin/models/llama-3-8b/force-fallback', { enabled: true })).status, 200);
  const forced = await complete(stack.url, { model: 'llama-3-8b', prompt: 'hi', max_tokens: 2 });
  assert.equal(forced.headers.get('x-served-model'), 'qwen3');
  assert.equal(forced.headers.get('x-fallback-reason'), 'forced');
  await admin('POST', '/admin/models/llama-3-8b/force-fallback', { enabled: false });
  assert.equal((await admin('POST', '/admin/models/qwen3/disable')).status, 200);
  const disabled = await complete(stack.url, { model: 'qwen3', prompt: 'hi', max_tokens: 2 });
  assert.equal(disabled.status, 503);
  // What the runbooks tell on-call clients will see for a disabled model without fallbacks.
  assert.equal(disabled.body.error.code, 'all_upstreams_unavailable');
  assert.match(disabled.body.error.message, /The model 'qwen3' is disabled by an operator/);
  assert.ok(Number(disabled.headers.get('retry-after')) >= 1);
  assert.equal((await admin('POST', '/admin/models/nope/disable')).status, 404);
  await admin('POST', '/admin/controls/revert');
  assert.equal((await complete(stack.url, { model: 'qwen3', prompt: 'hi', max_tokens: 2 })).status, 200);
});

test('the rate limit answers 429 with Retry-After and never touches health or metrics', async () => {
  await admin('PATCH', '/admin/controls', { rateLimitPerMinute: 2 });
  const ask = { model: 'qwen3', prompt: 'hi', max_tokens: 1 };
  // The window may already hold requests of earlier tests (limits count whenever they are on).
  let limited = await complete(stack.url, ask);
  for (let i = 0; i < 3 && limited.status === 200; i += 1) limited = await complete(stack.url, ask);
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  for (let i = 0; i < 4; i += 1) {
    assert.equal((await fetch(`${stack.url}/livez`)).status, 200);
    assert.equal((await fetch(`${stack.url}/metrics`)).status, 200);
  }
  // The router decodes the path: a percent-encoded spelling of /v1/ reaches the same route and
  // must meet the same limit.
  const encoded = await fetch(`${stack.url}/%761/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask) });
  assert.equal(encoded.status, 429);
  await admin('POST', '/admin/controls/revert');
  assert.equal((await complete(stack.url, ask)).status, 200);
});

/** A completion request sent from another loopback address: a client whose rate-limit budget no earlier test touched. */
function completeFrom(localAddress: string, headers: Record<string, string>, body: unknown): Promise<number> {
  const { hostname, port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, localAddress, method: 'POST', path: '/v1/completions', headers: { ...headers, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('made-up bearer tokens do not buy a client a fresh rate-limit budget each', async () => {
  // No API key is configured, so none of these tokens is known: all three count against the
  // client's address, as a client inventing a token per request would.
  assert.equal((await admin('PATCH', '/admin/controls', { rateLimitPerMinute: 2 })).status, 200);
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push(await completeFrom('127.0.0.2', { authorization: `Bearer sk-made-up-${randomUUID()}` }, { model: 'qwen3', prompt: 'hi', max_tokens: 1 }));
    }
    assert.deepEqual(statuses, [200, 200, 429]);
  } finally {
    await admin('POST', '/admin/controls/revert');
  }
});

test('raising maxInFlight lets a queued request in at once, without waiting for a slot to free', async () => {
  assert.equal((await admin('PATCH', '/admin/controls', { maxInFlight: 1 })).status, 200);
  const admission = stack.app.services.admission;
  // The test holds the only slot, as a long generation would, for as long as it needs.
  const releaseHeld = await admission.acquire('held-by-test', new AbortController().signal);
  try {
    const queued = complete(stack.url, { model: 'qwen3', prompt: 'waiting', max_tokens: 1 });
    await eventually(() => admission.state.queued === 1, 5000, 'the request to queue');
    assert.equal((await admin('PATCH', '/admin/controls', { maxInFlight: 2 })).status, 200);
    assert.equal(admission.state.queued, 0, 'the new limit released the waiting request');
    assert.equal((await queued).status, 200);
  } finally {
    releaseHeld();
    await admin('POST', '/admin/controls/revert');
  }
});

test('a model an operator disabled is listed as not ready, and ready again once enabled', async () => {
  type Listed = { id: string; ready: boolean; state: string };
  const listed = async (): Promise<Listed[]> => ((await (await fetch(`${stack.url}/v1/models`)).json()) as { data: Listed[] }).data;
  const one = async (id: string): Promise<Listed> => (await (await fetch(`${stack.url}/v1/models/${id}`)).json()) as Listed;
  assert.equal((await admin('POST', '/admin/models/qwen3/disable')).status, 200);
  try {
    // Triton still reports it ready: only the operator's switch takes it out.
    assert.equal(stack.app.services.registry.get('qwen3')!.state, 'ready');
    const qwen = (await listed()).find((m) => m.id === 'qwen3')!;
    assert.deepEqual([qwen.ready, qwen.state], [false, 'disabled']);
    const byId = await one('qwen3');
    assert.deepEqual([byId.ready, byId.state], [false, 'disabled']);
    const llama = (await listed()).find((m) => m.id === 'llama-3-8b')!;
    assert.deepEqual([llama.ready, llama.state], [true, 'ready'], 'the other models are untouched');
  } finally {
    assert.equal((await admin('POST', '/admin/models/qwen3/enable')).status, 200);
  }
  const enabled = await one('qwen3');
  assert.deepEqual([enabled.ready, enabled.state], [true, 'ready']);
});

test('chaos injects scoped faults that the fallback absorbs, counted, and never on health routes', async () => {
  const m0 = await scrape(`${stack.url}/metrics`);
  const set = await admin('POST', '/admin/chaos', { enabled: true, rate: 1, modes: ['error'], models: ['llama-3-8b'] });
  assert.equal(set.status, 200);
  stack.sim.reset();
  const res = await complete(stack.url, { model: 'llama-3-8b', prompt: 'hi', max_tokens: 2 });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-served-model'), 'qwen3');
  assert.equal(stack.sim.received().filter((r) => r.model === primary).length, 0);
  assert.equal(stack.sim.received().filter((r) => r.model === secondary).length, 1);
  assert.equal((await fetch(`${stack.url}/readyz`)).status, 200);
  const m1 = await scrape(`${stack.url}/metrics`);
  assert.equal(m1.value('chaos_injections_total', { mode: 'error', endpoint: '/v1/completions' }) - m0.value('chaos_injections_total', { mode: 'error', endpoint: '/v1/completions' }), 1);
  await admin('POST', '/admin/chaos', { enabled: false });
});

test('a chaos delay Node could not time is a 400 naming slowMs, and nothing changes', async () => {
  const before = await admin('GET', '/admin/chaos');
  const refused = await admin('POST', '/admin/chaos', { enabled: true, modes: ['slow'], slowMs: 1e15 });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.param, 'slowMs');
  assert.match(refused.body.error.message, /at most 600000 ms/);
  assert.deepEqual((await admin('GET', '/admin/chaos')).body, before.body);
});

test('the cached degraded mode serves an earlier real answer, marked, when every upstream is down', async () => {
  const ask = { model: 'qwen3', prompt: 'cache me', max_tokens: 3, temperature: 0 };
  const fresh = await complete(stack.url, ask);
  assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
  assert.equal(fresh.headers.get('x-degraded'), null);
  stack.sim.setFault(secondary, { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  const cached = await complete(stack.url, ask);
  assert.equal(cached.status, 200);
  assert.equal(cached.headers.get('x-degraded'), 'cached');
  assert.deepEqual(cached.body, fresh.body);
  const uncached = await complete(stack.url, { ...ask, prompt: 'never seen' });
  assert.ok(uncached.status >= 500, `an honest failure without a cached answer, got ${uncached.status}`);
  const streamed = await completeStream(stack.url, ask);
  assert.ok(streamed.status >= 500, 'streams are never served from the cache');
  stack.sim.clearFaults();
});

test('the cache never answers for a model an operator disabled, nor from an engine no longer serving', async () => {
  const ask = { model: 'qwen3', prompt: 'cache me too', max_tokens: 3, temperature: 0 };
  assert.equal((await complete(stack.url, ask)).status, 200);
  // Disabled: the operator wants its failure explicit, not its earlier answers.
  assert.equal((await admin('POST', '/admin/models/qwen3/disable')).status, 200);
  try {
    const disabled = await complete(stack.url, ask);
    assert.equal(disabled.status, 503);
    assert.equal(disabled.headers.get('x-degraded'), null);
  } finally {
    assert.equal((await admin('POST', '/admin/models/qwen3/enable')).status, 200);
  }
  // Another engine now serves: the registry's view of the model after a re-describe found a new
  // engine hash in Triton's model config.
  const entry = stack.app.services.registry.get('qwen3')!;
  const schema = entry.schema!;
  stack.sim.setFault(secondary, { kind: 'error', code: 'UNAVAILABLE', message: 'down' });
  try {
    assert.equal((await complete(stack.url, ask)).headers.get('x-degraded'), 'cached', 'the same engine may serve its answer');
    entry.schema = { ...schema, parameters: { ...schema.parameters, engine_hash: 'a-newly-published-engine' } };
    const otherEngine = await complete(stack.url, ask);
    assert.ok(otherEngine.status >= 500, `got ${otherEngine.status}`);
    assert.equal(otherEngine.headers.get('x-degraded'), null);
  } finally {
    entry.schema = schema;
    stack.sim.clearFaults();
  }
});

test('a latency far outside the rolling window is flagged as an anomaly', async () => {
  for (let i = 0; i < 15; i += 1) assert.equal((await complete(stack.url, { model: 'qwen3', prompt: `steady ${i}`, max_tokens: 1 })).status, 200);
  const flagged = async (): Promise<number> => (await scrape(`${stack.url}/metrics`)).value('anomalies_detected_total', { model_name: 'qwen3', signal: 'latency' }) || 0;
  const before = await flagged();
  stack.sim.setFault(secondary, { kind: 'slow-first-token', ms: 200 });
  await complete(stack.url, { model: 'qwen3', prompt: 'slow', max_tokens: 1 });
  stack.sim.clearFaults();
  assert.equal(await flagged(), before + 1, 'the slow request, and only it, is flagged');
  // One warning per model and signal per 10 s (anomaly.logIntervalMs): an earlier qwen3 line may stand for this one.
  assert.ok(stack.logs.find('anomaly detected').some((line) => line.model === 'qwen3' && typeof line.suppressed === 'number'));
  const diag = await admin('GET', '/debug/diagnostics');
  assert.ok(diag.body.anomalies.some((a: { model: string }) => a.model === 'qwen3'));
});
