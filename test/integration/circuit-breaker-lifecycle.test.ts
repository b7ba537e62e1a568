/**
 * The breaker per (target, model): opens after its threshold, sends traffic straight to the
 * fallback with no call to the primary, lets one probe through after the reset time, closes
 * when the primary is healthy and re-opens when it is not; with every upstream down the
 * gateway answers 503 with Retry-After without calling Triton.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { primary, receivedFor, secondary, startResilienceStack } from '../helpers/resilience-stack.js';
import { scrape } from '../helpers/scrape.js';
import { eventually, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeEach(async () => {
  await stack?.close();
  stack = await startResilienceStack();
});
after(async () => stack.close());

const ask = { model: 'llama-3-8b', prompt: 'hello world', max_tokens: 4 };
const down = { kind: 'error', code: 'UNAVAILABLE', message: 'engine restarting' } as const;

async function breakerState(model: string): Promise<number> {
  return (await scrape(`${stack.url}/metrics`)).value('circuit_breaker_state', { target: 'primary', model });
}

async function openPrimaryBreaker(): Promise<void> {
  stack.sim.setFault(primary, down);
  for (let i = 0; i < 5 && (await breakerState(primary)) !== 2; i += 1) {
    const res = await complete(stack.url, ask);
    assert.equal(res.status, 200, 'the fallback serves while the primary fails');
  }
  assert.equal(await breakerState(primary), 2, 'open');
}

test('2. persistent UNAVAILABLE opens the breaker; traffic skips the primary; one probe closes or re-opens it', async () => {
  await openPrimaryBreaker();
  stack.sim.reset();
  const skipped = await complete(stack.url, ask);
  assert.equal(skipped.status, 200);
  assert.equal(skipped.headers.get('x-served-model'), 'qwen3');
  assert.equal(skipped.headers.get('x-fallback-reason'), 'breaker_open');
  assert.equal(receivedFor(stack, primary), 0, 'no call to the primary while open');

  // Healthy again: after the reset time one probe goes through and closes it.
  stack.sim.clearFaults();
  await new Promise((r) => setTimeout(r, 450));
  stack.sim.reset();
  const probe = await complete(stack.url, ask);
  assert.equal(probe.status, 200);
  assert.equal(probe.headers.get('x-served-model'), 'llama-3-8b');
  assert.equal(receivedFor(stack, primary), 1);
  assert.equal(await breakerState(primary), 0, 'closed');

  // Still failing: the probe fails and it re-opens.
  await openPrimaryBreaker();
  await new Promise((r) => setTimeout(r, 450));
  stack.sim.reset();
  const failedProbe = await complete(stack.url, ask);
  assert.equal(failedProbe.status, 200);
  assert.equal(failedProbe.headers.get('x-served-model'), 'qwen3');
  assert.equal(receivedFor(stack, primary), 1, 'exactly one probe reached the primary');
  assert.equal(await breakerState(primary), 2, 're-opened');
  const m = await scrape(`${stack.url}/metrics`);
  // open, half-open, closed, open, half-open, open (the failed probe).
  assert.equal(m.value('circuit_breaker_transitions_total', { model: primary, to: 'open' }), 3);
  assert.equal(m.value('circuit_breaker_transitions_total', { model: primary, to: 'half_open' }), 2);
  assert.equal(m.value('circuit_breaker_transitions_total', { model: primary, to: 'closed' }), 1);
});

test('12. all upstreams down: 503 with Retry-After, answered without calling Triton once the breakers are open', async () => {
  stack.sim.setFault(primary, down);
  stack.sim.setFault(secondary, down);
  let last = await complete(stack.url, ask);
  for (let i = 0; i < 6 && !((await breakerState(primary)) === 2 && (await breakerState(secondary)) === 2); i += 1) {
    last = await complete(stack.url, ask);
  }
  assert.equal(await breakerState(primary), 2);
  assert.equal(await breakerState(secondary), 2);
  assert.equal(last.status, 503);
  stack.sim.reset();
  const res = await complete(stack.url, ask);
  assert.equal(res.status, 503);
  assert.equal(res.body.error.code, 'all_upstreams_unavailable');
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 1, `Retry-After from the breakers' reset time, got ${retryAfter}`);
  assert.equal(stack.sim.received().length, 0, 'no call reached Triton');
});

test('15. a flapping primary cycles open → half-open → closed, each transition counted', async () => {
  for (let cycle = 0; cycle < 2; cycle += 1) {
    await openPrimaryBreaker();
    stack.sim.clearFaults();
    await new Promise((r) => setTimeout(r, 450));
    const res = await complete(stack.url, ask);
    assert.equal(res.headers.get('x-served-model'), 'llama-3-8b');
    assert.equal(await breakerState(primary), 0);
  }
  const m = await scrape(`${stack.url}/metrics`);
  assert.equal(m.value('circuit_breaker_transitions_total', { model: primary, to: 'open' }), 2);
  assert.equal(m.value('circuit_breaker_transitions_total', { model: primary, to: 'half_open' }), 2);
  assert.equal(m.value('circuit_breaker_transitions_total', { model: primary, to: 'closed' }), 2);
  const lines = stack.logs.find('circuit breaker state changed').filter((l) => l.model === primary);
  assert.deepEqual(lines.map((l) => l.state), ['open', 'half_open', 'closed', 'open', 'half_open', 'closed']);
});

test('breaker state shows in /debug/diagnostics', async () => {
  await stack.close();
  stack = await startResilienceStack({ env: { GATEWAY_ADMIN_TOKEN: 'admin-token-0123456789' } });
  await openPrimaryBreaker();
  const res = await fetch(`${stack.url}/debug/diagnostics`, { headers: { authorization: 'Bearer admin-token-0123456789' } });
  const body = (await res.json()) as { breakers: Array<{ model: string; state: string; retryAt: string | null }> };
  const b = body.breakers.find((x) => x.model === primary)!;
  assert.equal(b.state, 'open');
  assert.ok(b.retryAt);
});

test('a request refused before reaching Triton does not close a half-open breaker', async () => {
  // Open the fallback's breaker, then let it go half-open.
  stack.sim.setFault(secondary, down);
  for (let i = 0; i < 5 && (await breakerState(secondary)) !== 2; i += 1) await complete(stack.url, { ...ask, model: 'qwen3' });
  assert.equal(await breakerState(secondary), 2, 'open');
  await new Promise((r) => setTimeout(r, 450));
  stack.sim.reset();
  stack.sim.setFault(secondary, down);
  // The primary hangs past the client's own deadline, so the fallback attempt is refused by the
  // spent deadline before any call: that says nothing about the fallback's Triton model.
  stack.sim.setFault(primary, { kind: 'hang' });
  const res = await complete(stack.url, ask, { 'x-request-timeout-ms': '300' });
  assert.ok(res.status >= 500, JSON.stringify(res.body));
  assert.equal(receivedFor(stack, secondary), 0, 'nothing reached the fallback');
  assert.notEqual(stack.app.services.breakers.state('primary', secondary), 'closed');
  // The next real probe still finds the fallback down and re-opens the breaker.
  const probe = await complete(stack.url, { ...ask, model: 'qwen3' });
  assert.ok(probe.status >= 500);
  assert.equal(await breakerState(secondary), 2);
});

test('a half-open probe the client abandons does not close the breaker on a Triton still down', async () => {
  await openPrimaryBreaker();
  // Triton now hangs: the probe will sit there until its client gives up.
  stack.sim.setFault(primary, { kind: 'hang' });
  await new Promise((r) => setTimeout(r, 450));
  assert.equal(stack.app.services.breakers.state('primary', primary), 'half_open');
  stack.sim.reset();
  const gaveUp = new AbortController();
  const probe = fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask), signal: gaveUp.signal });
  await eventually(() => receivedFor(stack, primary) === 1, 2000, 'the probe to reach Triton');
  gaveUp.abort();
  await assert.rejects(probe);
  await eventually(() => stack.logs.find('request completed').some((l) => l.error_code === 'client_cancelled'), 2000, 'the abandoned probe to end');
  assert.equal(await breakerState(primary), 2, 'still open: the abandoned probe said nothing about Triton');
  // So the next request skips the hanging primary instead of waiting on it.
  const next = await complete(stack.url, ask);
  assert.equal(next.headers.get('x-served-model'), 'qwen3');
  assert.equal(next.headers.get('x-fallback-reason'), 'breaker_open');
});

// opossum closes a half-open breaker on any outcome its filter excuses, the probe's or not; an
// abandoned attempt re-opens it instead, which waits one more reset time but never closes the
// breaker on a Triton that is still failing.
test('a stream begun while the breaker was closed, abandoned during a half-open window, does not close the breaker', async () => {
  // A long stream on the primary while it is still healthy.
  stack.sim.setFault(primary, { kind: 'slow-tokens', msPerToken: 100 });
  const gaveUp = new AbortController();
  const res = await fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...ask, max_tokens: 12, stream: true }), signal: gaveUp.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read();
  // Then the primary fails for everyone else, the breaker opens, and its reset time passes.
  await openPrimaryBreaker();
  await new Promise((r) => setTimeout(r, 450));
  assert.equal(stack.app.services.breakers.state('primary', primary), 'half_open');
  gaveUp.abort();
  await eventually(() => stack.logs.find('request completed').some((l) => l.stream === true && l.error_code === 'client_cancelled'), 2000, 'the abandoned stream to end');
  assert.notEqual(stack.app.services.breakers.state('primary', primary), 'closed', 'an abandoned stream says nothing about Triton');
});

test('a closed breaker has its state series from its first call, with no transition counted', async () => {
  const before = await scrape(`${stack.url}/metrics`);
  assert.doesNotMatch(before.text, /^circuit_breaker_state\{/m, 'no breaker before the first call');
  assert.equal((await complete(stack.url, ask)).status, 200);
  const m = await scrape(`${stack.url}/metrics`);
  const series = m.text.split('\n').filter((line) => line.startsWith('circuit_breaker_state{'));
  assert.deepEqual(series, [`circuit_breaker_state{target="primary",model="${primary}"} 0`]);
  assert.equal(m.value('circuit_breaker_transitions_total'), 0);
});
