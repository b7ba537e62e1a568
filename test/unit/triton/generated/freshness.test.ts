/**
 * The committed ts-proto output matches proto/: regenerating (buf + ts-proto, no protoc) gives
 * byte-identical files, so a .proto edit without `npm run proto:gen` fails here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('src/triton/generated is what proto/ generates', () => {
  const res = spawnSync(process.execPath, ['scripts/check-proto-fresh.mjs'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /matches proto/);
});
