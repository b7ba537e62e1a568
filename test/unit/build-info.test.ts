import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { buildInfo } from '../../src/build-info.js';

const saved = process.env.GIT_COMMIT;
afterEach(() => {
  if (saved === undefined) delete process.env.GIT_COMMIT;
  else process.env.GIT_COMMIT = saved;
});

test('GIT_COMMIT names the commit when it is set', () => {
  process.env.GIT_COMMIT = '0123456789abcdef0123456789abcdef01234567';
  assert.equal(buildInfo().commit, '0123456789abcdef0123456789abcdef01234567');
});

test("an empty GIT_COMMIT (an image built without the build arg) is no commit, not ''", () => {
  process.env.GIT_COMMIT = '';
  const { commit, version } = buildInfo();
  assert.notEqual(commit, '');
  // From the checkout's .git when there is one, else null: either way never the empty string.
  assert.ok(commit === null || /^[0-9a-f]{40}$/.test(commit), String(commit));
  assert.match(version, /^\d+\.\d+\.\d+/);
});
