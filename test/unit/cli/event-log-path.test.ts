/**
 * The CLI uses the gateway's event log: with only GATEWAY_EVENT_LOG set (the gateway's variable),
 * `backup record` appends to it and `ops postmortem` reads the gateway's events from it, through
 * runCli and through the real bin. GOVERNANCE_EVENT_LOG still works as an alias; --event-log and
 * GATEWAY_EVENT_LOG come first.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EventLog } from '../../../src/governance/event-log.js';
import { GovernanceRecorder } from '../../../src/governance/recorder.js';
import { makeModelRepository } from '../../fixtures/model-repository.js';
import { cli } from './run-cli.js';

let dir: string;
let repo: string;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-event-log-'));
  repo = join(dir, 'model_repository');
  await makeModelRepository(repo, 1024);
});
after(() => rm(dir, { recursive: true, force: true }));

async function backups(path: string): Promise<number> {
  return (await new EventLog(path).read({ type: 'llm_backup_recorded' })).events.length;
}

async function record(env: Record<string, string>, extra: string[] = []): Promise<void> {
  const run = await cli(['backup', 'record', repo, '--to', join(dir, 'copies'), '--json', ...extra], { env, cwd: dir });
  assert.equal(run.code, 0, run.stderr);
}

test('backup record appends to $GATEWAY_EVENT_LOG, the log the gateway writes', async () => {
  const gatewayLog = join(dir, 'gateway-events.jsonl');
  await record({ GATEWAY_EVENT_LOG: gatewayLog, USER: 'backup-bot' });
  assert.equal(await backups(gatewayLog), 1);
  assert.ok(!existsSync(join(dir, 'data')), 'nothing written to the default ./data log');
});

test('GATEWAY_EVENT_LOG wins over the GOVERNANCE_EVENT_LOG alias, which still works alone; --event-log wins over both', async () => {
  const gatewayLog = join(dir, 'both-gateway.jsonl');
  const aliasLog = join(dir, 'both-alias.jsonl');
  await record({ GATEWAY_EVENT_LOG: gatewayLog, GOVERNANCE_EVENT_LOG: aliasLog });
  assert.deepEqual([await backups(gatewayLog), await backups(aliasLog)], [1, 0]);

  await record({ GOVERNANCE_EVENT_LOG: aliasLog });
  assert.equal(await backups(aliasLog), 1);

  const flagLog = join(dir, 'flag.jsonl');
  await record({ GATEWAY_EVENT_LOG: gatewayLog, GOVERNANCE_EVENT_LOG: aliasLog }, ['--event-log', flagLog]);
  assert.deepEqual([await backups(flagLog), await backups(gatewayLog), await backups(aliasLog)], [1, 1, 1]);
});

test("ops postmortem reads the gateway's events from $GATEWAY_EVENT_LOG", async () => {
  const gatewayLog = join(dir, 'postmortem-gateway.jsonl');
  const env = { GATEWAY_EVENT_LOG: gatewayLog, TRITON_GATEWAY_INCIDENT_LOG: join(dir, 'incidents.jsonl'), USER: 'oncall-bob' };
  const recorder = new GovernanceRecorder(new EventLog(gatewayLog), quiet);
  await recorder.open();
  const engine = (version: string, hash: string) => ({ model: 'qwen3', triton_model: 'qwen3-vllm', target: 'primary', version, engine_hash: hash, quantisation: 'fp8', manifest: null, source: 'triton' as const });
  await recorder.record({ event: 'llm_rollback_completed', model: 'qwen3', from_version: '3', to_version: '2', previous: engine('3', 'sha256:bad'), restored: engine('2', 'sha256:good'), actor: 'oncall-bob', reason: 'v3 warm-up failing', warmup_duration_ms: 12, warning: null });
  await recorder.close();

  const startedAt = new Date(Date.now() - 10 * 60_000).toISOString();
  const opened = await cli(['ops', 'incident', 'open', '--sev', 'SEV3', '--title', 'qwen3 v3 failing', `--started-at=${startedAt}`, '--json'], { env, cwd: dir });
  assert.equal(opened.code, 0, opened.stderr);
  const id = (JSON.parse(opened.stdout) as { id: string }).id;
  const pm = await cli(['ops', 'postmortem', id, '--out', 'review.md'], { env, cwd: dir });
  assert.equal(pm.code, 0, pm.stderr);
  const review = await readFile(join(dir, 'review.md'), 'utf8');
  assert.match(review, /llm_rollback_completed: qwen3 rolled back from version 3 to 2 by oncall-bob/, review.slice(review.indexOf('## Timeline'), review.indexOf('## Root cause')));
});

test('the real bin honours GATEWAY_EVENT_LOG from its environment', () => {
  const gatewayLog = join(dir, 'bin-gateway.jsonl');
  const main = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
  const env: NodeJS.ProcessEnv = { ...process.env, GATEWAY_EVENT_LOG: gatewayLog };
  delete env.GOVERNANCE_EVENT_LOG;
  // Run from the temp directory (to see nothing lands in its ./data), so tsx by its resolved URL.
  const run = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, 'backup', 'record', repo, '--to', join(dir, 'bin-copies'), '--json'], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(existsSync(gatewayLog), `${gatewayLog} written`);
  assert.ok(!existsSync(join(dir, 'data')), 'nothing written to the default ./data log');
});
