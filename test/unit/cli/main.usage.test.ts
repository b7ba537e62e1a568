/**
 * The command line's contract: --help on every command exits 0, bad usage exits 2 with the
 * command's usage on stderr, failures exit 1 with a message and no stack trace. One run goes
 * through the real bin (src/cli/main.ts) in a child process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli } from './run-cli.js';

const helps = [
  [],
  ['backup'],
  ['backup', 'record'],
  ['backup', 'verify'],
  ['ops'],
  ['ops', 'diagnose'],
  ['ops', 'incident'],
  ['ops', 'incident', 'open'],
  ['ops', 'incident', 'detect'],
  ['ops', 'incident', 'mitigate'],
  ['ops', 'incident', 'resolve'],
  ['ops', 'incident', 'note'],
  ['ops', 'incident', 'list'],
  ['ops', 'incident', 'show'],
  ['ops', 'postmortem'],
];

test('--help works on every command and says how to use it', async () => {
  for (const argv of helps) {
    const run = await cli([...argv, '--help']);
    assert.equal(run.code, 0, argv.join(' '));
    assert.match(run.stdout, /^Usage: triton-gateway/, argv.join(' '));
    assert.equal(run.stderr, '');
  }
});

test('bad usage exits 2 with the reason and the usage; no stack traces', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['backup', 'record', '--to'], /argument missing/],
    [['backup', 'record', 'repo', '--to', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['backup', 'verify'], /missing <copy>/],
    [['backup', 'verify', 'a', 'b'], /unexpected argument 'b'/],
    [['ops', 'diagnose', 'not a url', '--token', 't'], /not a URL/],
    [['ops', 'diagnose', 'http://127.0.0.1:1'], /no admin token/],
    [['ops', 'diagnose', 'http://127.0.0.1:1', '--token', 't', '--timeout-ms', '1.5'], /--timeout-ms must be a whole number/],
    [['ops', 'diagnose', 'http://127.0.0.1:1', '--token', 't', '--timeout-ms', '1e10'], /--timeout-ms must be a whole number/],
    [['ops', 'incident', 'open', '--title', 'x'], /--sev must be one of SEV1, SEV2, SEV3, SEV4/],
    [['ops', 'incident', 'open', '--sev', 'SEV2'], /--title is required/],
    [['ops', 'incident', 'open', '--sev', 'SEV2', '--title', 'x', '--started-at', 'yesterday'], /not a time/],
    [['ops', 'incident', 'detect', 'INC-1', '--root-cause', 'x'], /--root-cause does not apply to 'detect'/],
    [['ops', 'postmortem'], /missing <incident-id>/],
  ];
  for (const [argv, message] of cases) {
    const run = await cli(argv);
    assert.equal(run.code, 2, `${argv.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message, argv.join(' '));
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('the real bin runs in a child process with the same exit codes', () => {
  const main = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
  const help = spawnSync(process.execPath, ['--import', 'tsx', main, '--help'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /backup record <model-repo> --to <dest>/);
  const failed = spawnSync(process.execPath, ['--import', 'tsx', main, 'backup', 'record', '/nonexistent/repo', '--to', tmpdir()], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(failed.stderr, /\/nonexistent\/repo/);
  assert.doesNotMatch(failed.stderr, /\n\s+at /, 'no stack trace');
  const notABackup = spawnSync(process.execPath, ['--import', 'tsx', main, 'backup', 'verify', '/nonexistent/backup'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(notABackup.status, 2);
  assert.equal(notABackup.stdout, '');
  assert.match(notABackup.stderr, /^triton-gateway: cannot verify \/nonexistent\/backup: it does not exist/);
  const usage = spawnSync(process.execPath, ['--import', 'tsx', main, 'ops', 'nope'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /unknown ops command 'nope'/);
});
