import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../../src/errors.js';
import { ChaosMonkey } from '../../../src/inference/chaos.js';

const settings = { enabled: true, rate: 1, modes: ['error' as const], routes: [], models: [], slowMs: 1 };

test('off by default in config; when on, hits only inference routes in scope', async () => {
  const injected: string[] = [];
  const c = new ChaosMonkey(settings, (mode, endpoint) => injected.push(`${mode} ${endpoint}`));
  for (const path of ['/livez', '/readyz', '/metrics', '/debug/diagnostics']) await c.beforeAttempt(path, 'm');
  assert.deepEqual(injected, []);
  await assert.rejects(c.beforeAttempt('/v1/completions', 'm'), (err: unknown) => err instanceof GatewayError && err.upstreamFault);
  c.update({ models: ['other'] });
  await c.beforeAttempt('/v1/completions', 'm');
  c.update({ models: [], routes: ['/v1/chat/completions'] });
  await c.beforeAttempt('/v1/completions', 'm');
  assert.deepEqual(injected, ['error /v1/completions']);
  c.update({ enabled: false, routes: [] });
  await c.beforeAttempt('/v1/completions', 'm');
  assert.equal(injected.length, 1);
});

test('the rate decides how often', async () => {
  let draws = 0;
  const sequence = [0.5, 0.01, 0.0];
  const c = new ChaosMonkey({ ...settings, rate: 0.05, modes: ['timeout'] }, () => undefined, () => sequence[draws++ % sequence.length]!);
  await c.beforeAttempt('/v1/completions', 'm');
  await assert.rejects(c.beforeAttempt('/v1/completions', 'm'), (err: unknown) => err instanceof GatewayError && err.code === 'upstream_timeout');
});
