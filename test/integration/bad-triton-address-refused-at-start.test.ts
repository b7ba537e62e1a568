/**
 * `npm start` with Triton addresses no channel could use refuses to start the way any bad config
 * does: exit code 2 and every problem listed, instead of exit 1 on the first address (or a
 * gateway that starts and never becomes ready).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';

test('bad Triton addresses and a bad max_tokens default: exit 2 with every problem listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bad-config-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(
    configPath,
    stringify({
      server: { host: '127.0.0.1', port: 0 },
      triton: { targets: [{ name: 'a', grpc: 'triton:80x1' }, { name: 'b', grpc: 'http://triton:8001' }] },
      models: [{ name: 'm', target: 'a', defaultMaxTokens: 9999 }],
    }),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, GATEWAY_CONFIG: configPath, GATEWAY_EVENT_LOG: join(dir, 'events.jsonl') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /invalid configuration/);
  assert.match(stderr, /triton\.targets\.0\.grpc: .*bad port/);
  assert.match(stderr, /triton\.targets\.1\.grpc: .*http:\/\/ scheme; drop it/);
  assert.match(stderr, /models\.0\.defaultMaxTokens: 9999/);
});
