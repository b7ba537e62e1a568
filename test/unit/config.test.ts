import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js';

test('env alone is a valid config: TRITON_GRPC_URL makes the default target', () => {
  const cfg = parseConfig({}, { TRITON_GRPC_URL: 'triton:8001', PORT: '9000', GATEWAY_API_KEYS: 'k-0123456789abcdef, k-fedcba9876543210' });
  assert.equal(cfg.server.port, 9000);
  assert.deepEqual(cfg.triton.targets.map((t) => [t.name, t.grpc]), [['default', 'triton:8001']]);
  assert.deepEqual(cfg.models, []);
  assert.equal(cfg.auth.apiKeys.length, 2);
});

test('a bad config lists every problem at once', () => {
  try {
    parseConfig(
      {
        server: { port: 'eighty' },
        triton: { targets: [{ name: 'a', grpc: 'x:1' }, { name: 'b', grpc: 'y:1' }] },
        models: [
          { name: 'm', target: 'nowhere', fallbacks: ['ghost'] },
          { name: 'n', defaultMaxTokens: 100, maxTokens: 10, target: 'a', unknownKey: true },
        ],
      },
      { GATEWAY_ADMIN_TOKEN: 'short' },
    );
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    for (const expected of ['server.port', 'models.0.target', 'models.0.fallbacks.0', 'models.1', 'auth.adminToken']) {
      assert.ok(text.includes(expected), `mentions ${expected}:\n${text}`);
    }
    assert.ok(err.problems.length >= 5);
  }
});

test('no Triton target at all is refused', () => {
  assert.throws(() => parseConfig({}, {}), (err: unknown) => err instanceof ConfigError && /TRITON_GRPC_URL/.test(err.message));
});

test('loadConfig reads YAML from GATEWAY_CONFIG and applies env overrides on top', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const path = join(dir, 'g.yaml');
  writeFileSync(path, 'triton:\n  targets:\n    - name: main\n      grpc: a:1\nmodels:\n  - name: m1\n    fallbacks: [m2]\n  - name: m2\n');
  const cfg = loadConfig({ GATEWAY_CONFIG: path, TRITON_GRPC_URL: 'b:2' });
  assert.equal(cfg.triton.targets[0]!.grpc, 'b:2');
  assert.equal(cfg.triton.targets[0]!.name, 'main');
  assert.deepEqual(cfg.models.map((m) => m.name), ['m1', 'm2']);
  assert.equal(cfg.models[0]!.defaultMaxTokens, 16);
  writeFileSync(path, 'models: [unclosed');
  assert.throws(() => loadConfig({ GATEWAY_CONFIG: path }), /not valid YAML/);
  assert.throws(() => loadConfig({ GATEWAY_CONFIG: join(dir, 'missing.yaml') }), /cannot read/);
});
