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

test('a config file that does not parse is refused with the reason and position, never the offending line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const path = join(dir, 'g.yaml');
  writeFileSync(path, 'triton:\n  targets:\n    - name: main\n      grpc: a:1\nauth:\n  adminToken: ADMIN-SECRET-1f2e3d4c5b6a: x\n');
  assert.throws(
    () => loadConfig({ GATEWAY_CONFIG: path }),
    (err: unknown) => err instanceof ConfigError && /not valid YAML: .*\(line 6, column \d+\)/.test(err.message) && !err.message.includes('ADMIN-SECRET'),
  );
});

test('a chaos delay Node could not time is refused', () => {
  assert.ok(problemsOf({ triton: oneTarget, chaos: { slowMs: 2 ** 31 } }).some((p) => /chaos\.slowMs: .*at most 600000 ms/.test(p)));
});

test('a Triton address with a user and password is refused without quoting the password', () => {
  for (const address of ['https://svc:pa55-SECRET@triton.internal:8001', 'svc:pa55-SECRET@triton.internal:8001', 'a:1,svc:pa55-SECRET@b:2']) {
    const problems = problemsOf({}, { TRITON_GRPC_URL: address });
    assert.ok(problems.some((p) => /carries no credentials/.test(p)), problems.join('\n'));
    assert.ok(!problems.join('\n').includes('pa55-SECRET'), problems.join('\n'));
  }
});

/** The problems of a config that must be refused (fails the test when it is accepted). */
function problemsOf(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(raw, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail(`accepted: ${JSON.stringify(raw)} ${JSON.stringify(env)}`);
}

const oneTarget = { targets: [{ name: 't', grpc: 'triton:8001' }] };

test('defaultMaxTokens above the defaulted maxTokens is refused, listed with the other problems', () => {
  const problems = problemsOf({ triton: { targets: [{ name: 't', grpc: 'triton:80x1' }] }, models: [{ name: 'm', defaultMaxTokens: 9999, tokenBudgetAction: 'reject' }] });
  assert.ok(problems.some((p) => p.startsWith('models.0.defaultMaxTokens:') && /9999.*4096/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('triton.targets.0.grpc:')), problems.join('\n'));
  // Within the defaulted maxTokens, or with an explicit larger one, it stands.
  assert.equal(parseConfig({ triton: oneTarget, models: [{ name: 'm', defaultMaxTokens: 4096 }] }).models[0]!.defaultMaxTokens, 4096);
  assert.equal(parseConfig({ triton: oneTarget, models: [{ name: 'm', defaultMaxTokens: 9999, maxTokens: 10_000 }] }).models[0]!.defaultMaxTokens, 9999);
});

test('a Triton address no channel could use is a config problem, with a hint for a URL scheme', () => {
  const problems = problemsOf({
    triton: {
      targets: [
        { name: 'a', grpc: 'http://triton:8001' },
        { name: 'b', grpc: 'https://triton:8001' },
        { name: 'c', grpc: 'grpc://triton:8001' },
        { name: 'd', grpc: 'triton:80x1' },
        { name: 'e', grpc: 'triton 8001' },
        { name: 'f', grpc: '' },
      ],
    },
  });
  for (const [i, scheme] of ['http', 'https', 'grpc'].entries()) {
    const p = problems.find((x) => x.startsWith(`triton.targets.${i}.grpc:`));
    assert.ok(p !== undefined && p.includes(`${scheme}://`) && /drop it/.test(p) && p.includes("'triton:8001'"), problems.join('\n'));
  }
  assert.ok(problems.some((p) => p.startsWith('triton.targets.3.grpc:') && /bad port/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('triton.targets.4.grpc:') && /bad host/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('triton.targets.5.grpc:')), problems.join('\n'));
  // TRITON_GRPC_URL goes through the same check.
  assert.ok(problemsOf({}, { TRITON_GRPC_URL: 'http://triton:8001' }).some((p) => /drop it/.test(p)));
});

test('every address form the channel accepts still passes', () => {
  for (const grpc of ['triton:8001', 'triton', '10.0.0.1:8001,10.0.0.2:8001', '[::1]:8001', 'a:8001,b:8002', 'dns:///triton-headless:8001', 'unix:/run/triton.sock']) {
    assert.equal(parseConfig({ triton: { targets: [{ name: 't', grpc }] } }).triton.targets[0]!.grpc, grpc);
  }
});

test('loadConfig refuses a file with a bad address and a bad default together', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, 'triton:\n  targets: [{ name: t, grpc: "triton:80x1" }]\nmodels:\n  - { name: m, defaultMaxTokens: 9999 }\n');
  assert.throws(
    () => loadConfig({ GATEWAY_CONFIG: path }),
    (err: unknown) => err instanceof ConfigError && err.problems.length === 2 && /grpc.*bad port/.test(err.message) && /defaultMaxTokens/.test(err.message),
  );
});

test('TRITON_METRICS_URL on its own applies to the first target, and is a problem with no target', () => {
  const cfg = parseConfig({ triton: { targets: [{ name: 'a', grpc: 'a:8001' }, { name: 'b', grpc: 'b:8001' }] } }, { TRITON_METRICS_URL: 'http://a:8002/metrics' });
  assert.deepEqual(cfg.triton.targets.map((t) => [t.name, t.grpc, t.metricsUrl]), [['a', 'a:8001', 'http://a:8002/metrics'], ['b', 'b:8001', undefined]]);
  const problems = problemsOf({}, { TRITON_METRICS_URL: 'http://a:8002/metrics' });
  assert.ok(problems.some((p) => p.startsWith('TRITON_METRICS_URL:')), problems.join('\n'));
});

test('a refused PORT is one problem, not also a derived server.port one', () => {
  for (const port of ['abc', '80.5', '70000', '-1']) {
    assert.deepEqual(problemsOf({ triton: oneTarget }, { PORT: port }), [`PORT: not a port number: '${port}'`]);
  }
  // The file's own port still stands when PORT is refused: a bad one there is its own problem.
  assert.deepEqual(problemsOf({ triton: oneTarget, server: { port: 'x' } }, { PORT: 'abc' }).map((p) => p.split(':')[0]), ['PORT', 'server.port']);
  assert.equal(parseConfig({ triton: oneTarget }, { PORT: '0' }).server.port, 0);
  assert.equal(parseConfig({ triton: oneTarget }, { PORT: '65535' }).server.port, 65535);
});

test('loadConfig lists chat-template problems together with the schema and cross-reference problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const path = join(dir, 'mixed.yaml');
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>' }));
  writeFileSync(join(dir, 'ok.jinja'), '{% for m in messages %}{{ m.content }}{% endfor %}');
  writeFileSync(
    path,
    [
      'triton:',
      '  targets: [{ name: t, grpc: "127.0.0.1:1" }]',
      'models:',
      '  - { name: a, maxTokens: -5, chatTemplate: { file: missing.jinja } }',
      '  - { name: b, fallbacks: [ghost], chatTemplate: { inline: "{% if x %}hello" } }',
      '  - { name: c, chatTemplate: { tokenizerConfig: tokenizer_config.json } }',
      '  - { name: d, chatTemplate: { file: ok.jinja } }',
      // A malformed chatTemplate is the schema's problem only: nothing to load.
      '  - { name: e, chatTemplate: { file: missing.jinja, inline: "x" } }',
    ].join('\n'),
  );
  try {
    loadConfig({ GATEWAY_CONFIG: path });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    const text = err.problems.join('\n');
    assert.ok(err.problems.some((p) => p.startsWith('models.0.maxTokens:')), text);
    assert.ok(err.problems.some((p) => p.startsWith('models.1.fallbacks.0:')), text);
    assert.ok(err.problems.some((p) => p.startsWith('models.4.chatTemplate: set exactly one')), text);
    // Relative to the config file, as for a config that is otherwise good.
    assert.ok(err.problems.some((p) => p.startsWith(`models.0.chatTemplate: cannot read ${join(dir, 'missing.jinja')}: ENOENT`)), text);
    assert.ok(err.problems.some((p) => p.startsWith('models.1.chatTemplate: the template does not parse')), text);
    assert.ok(err.problems.some((p) => p.startsWith('models.2.chatTemplate: ') && p.includes('has no chat_template')), text);
    assert.equal(err.problems.length, 6, text);
  }
});

test('loadConfig of a config whose only problem is a template refuses it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const path = join(dir, 'templates.yaml');
  writeFileSync(path, 'triton:\n  targets: [{ name: t, grpc: "127.0.0.1:1" }]\nmodels:\n  - { name: a, chatTemplate: { file: missing.jinja } }\n');
  assert.throws(
    () => loadConfig({ GATEWAY_CONFIG: path }),
    (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0]!.startsWith('models.0.chatTemplate: cannot read'),
  );
});

test('with several Triton targets, a model that names none is a problem naming its target field', () => {
  const twoTargets = { targets: [{ name: 'a', grpc: 'a:8001' }, { name: 'b', grpc: 'b:8001' }] };
  const problems = problemsOf({ triton: twoTargets, models: [{ name: 'placed', target: 'b' }, { name: 'unplaced' }] });
  assert.deepEqual(problems.filter((p) => p.startsWith('models.')), ['models.1.target: required when several targets are configured']);
  // With one target there is nothing to choose: the model goes to it.
  assert.equal(parseConfig({ triton: oneTarget, models: [{ name: 'unplaced' }] }).models[0]!.name, 'unplaced');
});
