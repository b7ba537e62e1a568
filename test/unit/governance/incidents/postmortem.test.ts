/**
 * The post-incident review rendered from the real runbooks/post-incident-review-template.md: every
 * placeholder filled (TBD where only a person knows), the timeline merged from the incident log
 * and the governance events of the incident's window, in time order.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { SCHEMA_VERSION, type GovernanceEvent } from '../../../../src/governance/events.js';
import type { Incident } from '../../../../src/governance/incidents/incident-log.js';
import { renderPostmortem } from '../../../../src/governance/incidents/postmortem.js';

const template = await readFile(new URL('../../../../runbooks/post-incident-review-template.md', import.meta.url), 'utf8');
const t = (hhmm: string) => new Date(`2025-11-18T${hhmm}:00.000Z`);
const base = (at: string, id: string) => ({ schema_version: SCHEMA_VERSION, id, at: t(at).toISOString(), instance: 'gw:1' }) as const;
const engine = (version: string, hash: string) => ({ model: 'llama-3-8b', triton_model: 'llama-3-8b-trtllm', target: 'primary', version, engine_hash: hash, quantisation: 'fp8', manifest: null, source: 'triton' as const });

const incident: Incident = {
  id: 'INC-20251118-abc123',
  severity: 'SEV2',
  title: 'llama-3-8b answers 5xx',
  description: null,
  startedAt: t('14:25'),
  openedAt: t('14:32'),
  openedBy: 'alice',
  detectedAt: t('14:30'),
  detectedBy: 'HighErrorRate',
  mitigatedAt: t('14:50'),
  resolvedAt: t('15:15'),
  rootCause: 'the version 2 engine was built with a broken tokenizer',
  resolution: 'Rebuilt the engine.',
  notes: [{ time: t('14:40'), text: 'error spike matches the 14:20 publish', actor: 'bob' }],
};

const events: GovernanceEvent[] = [
  { ...base('12:00', 'too-early'), event: 'llm_warmup_completed', model: 'llama-3-8b', triton_model: 'llama-3-8b-trtllm', version: '1', engine_hash: 'h1', schema_versions: { model_versions: ['1'], schema_id: null, schema_version: null }, duration_ms: 10, latency_budget_ms: 1000, completion_tokens: 4 },
  { ...base('14:20', 'pub'), event: 'llm_engine_published', model: 'llama-3-8b', engine: engine('2', 'h2'), previous: engine('1', 'h1') },
  { ...base('14:35', 'alert'), event: 'llm_observability_alert', model: 'llama-3-8b', signal: 'cost', status: 'firing', alert_id: 'a1', value: 0.02, threshold: 0.01, unit: 'usd_per_request', window_ms: 300_000, requests: 12, waiver_id: null, finance_webhook: 'queued' },
  { ...base('14:48', 'rb'), event: 'llm_rollback_completed', model: 'llama-3-8b', from_version: '2', to_version: '1', previous: engine('2', 'h2'), restored: engine('1', 'h1'), actor: 'bob', reason: 'tokenizer regression', warmup_duration_ms: 20, warning: null },
  { ...base('16:00', 'too-late'), event: 'llm_warmup_completed', model: 'llama-3-8b', triton_model: 'llama-3-8b-trtllm', version: '1', engine_hash: 'h1', schema_versions: { model_versions: ['1'], schema_id: null, schema_version: null }, duration_ms: 10, latency_budget_ms: 1000, completion_tokens: 4 },
];

test('renders every placeholder of the template with the incident and its timeline', () => {
  const out = renderPostmortem(template, incident, { events, now: t('16:30'), lookbackMs: 10 * 60_000, authors: '@alice' });
  assert.deepEqual(out.unknownPlaceholders, []);
  assert.doesNotMatch(out.text, /\{\{/);
  assert.doesNotMatch(out.text, /<!--/, 'the instructions comment is dropped');
  assert.match(out.text, /^# Post-incident review: llama-3-8b answers 5xx/);
  assert.match(out.text, /\| Detected \| 2025-11-18 14:30 UTC \(time to detect: 5m 00s\) \|/);
  assert.match(out.text, /\| Mitigated \| 2025-11-18 14:50 UTC \(time to mitigate: 20m 00s\) \|/);
  assert.match(out.text, /\| User impact duration \| 25m 00s \|/);
  assert.match(out.text, /\| Authors \| @alice \|/);
  assert.match(out.text, /the version 2 engine was built with a broken tokenizer/);
  assert.match(out.text, /Rebuilt the engine\.\n- llama-3-8b rolled back from version 2 to 1 at 14:48 UTC \(llm_rollback_completed rb, by bob\)\./);
  assert.match(out.text, /- 14:35 UTC: llm_observability_alert firing: cost on llama-3-8b/);

  const timeline = out.text.slice(out.text.indexOf('## Timeline'), out.text.indexOf('## Root cause')).trim().split('\n').filter((l) => l.startsWith('- '));
  assert.deepEqual(timeline, [
    '- 14:20 UTC: llm_engine_published: llama-3-8b version 2 (engine h2, fp8)',
    '- 14:25 UTC: impact began: llama-3-8b answers 5xx',
    '- 14:30 UTC: detected by HighErrorRate',
    '- 14:32 UTC: incident INC-20251118-abc123 opened (SEV2) by alice',
    '- 14:35 UTC: llm_observability_alert firing: cost on llama-3-8b, mean 0.0200 USD/request over 5m 00s (threshold 0.01 USD/request)',
    '- 14:40 UTC: error spike matches the 14:20 publish (bob)',
    '- 14:48 UTC: llm_rollback_completed: llama-3-8b rolled back from version 2 to 1 by bob (restored engine h1): tokenizer regression',
    '- 14:50 UTC: mitigated: user impact stopped',
    '- 15:15 UTC: resolved',
  ]);
});

test('what the logs cannot know stays TBD; an unknown placeholder is reported', () => {
  const open: Incident = { ...incident, detectedAt: null, detectedBy: null, mitigatedAt: null, resolvedAt: null, rootCause: null, resolution: null, notes: [] };
  const out = renderPostmortem(`${template}\n{{customer_quote}}\n`, open, { events: [], now: t('14:40'), lookbackMs: 0 });
  assert.deepEqual(out.unknownPlaceholders, ['customer_quote']);
  assert.match(out.text, /\| Detected \| TBD \(time to detect: TBD\) \|/);
  assert.match(out.text, /## Root cause\n\nTBD/);
  assert.match(out.text, /\| Authors \| TBD \|/);
  assert.match(out.text, /\| User impact duration \| TBD \|/);
});

test("a replica's rollback that found Triton already on the target says it only re-pinned", () => {
  const repin: GovernanceEvent = { ...base('14:49', 'rb2'), instance: 'gw:2', event: 'llm_rollback_completed', model: 'llama-3-8b', from_version: '2', to_version: '1', previous: engine('2', 'h2'), restored: engine('1', 'h1'), actor: 'bob', reason: null, warmup_duration_ms: 20, warning: null, already_on_target: true };
  const out = renderPostmortem(template, incident, { events: [...events, repin], now: t('16:30'), lookbackMs: 10 * 60_000, authors: '@alice' });
  assert.match(out.text, /- llama-3-8b rolled back from version 2 to 1 at 14:48 UTC \(llm_rollback_completed rb, by bob\)\./);
  assert.match(out.text, /- llama-3-8b rolled back from version 2 to 1 \(Triton was already on it: this replica only re-pinned\) at 14:49 UTC \(llm_rollback_completed rb2, by bob\)\./);
  assert.match(out.text, /- 14:49 UTC: llm_rollback_completed: llama-3-8b rolled back from version 2 to 1 \(Triton was already on it: this replica only re-pinned\) by bob/);
});

test('a roll forward says forward, and a rollback to the serving version says it stayed', () => {
  const rollback = (id: string, at: string, from: string, to: string): GovernanceEvent => ({ ...base(at, id), event: 'llm_rollback_completed', model: 'llama-3-8b', from_version: from, to_version: to, previous: engine(from, `h${from}`), restored: engine(to, `h${to}`), actor: 'bob', reason: null, warmup_duration_ms: 20, warning: null, already_on_target: false });
  const out = renderPostmortem(template, incident, { events: [...events, rollback('fw', '14:49', '1', '2'), rollback('same', '14:49', '2', '2')], now: t('16:30'), lookbackMs: 10 * 60_000 });
  assert.match(out.text, /- llama-3-8b rolled forward from version 1 to 2 at 14:49 UTC \(llm_rollback_completed fw, by bob\)\./);
  assert.match(out.text, /- llama-3-8b stayed on version 2 \(already serving\) at 14:49 UTC \(llm_rollback_completed same, by bob\)\./);
});

test('a failed rollback is in the timeline with where it stopped and what still serves', () => {
  const failed: GovernanceEvent = { ...base('14:47', 'rbf'), event: 'llm_rollback_failed', model: 'llama-3-8b', to_version: '9', stage: 'load', status: 409, error_code: 'rollback_failed', message: 'version 9 is not in the model repository', serving_version: '2', actor: 'bob', reason: null };
  const out = renderPostmortem(template, incident, { events: [...events, failed], now: t('16:30'), lookbackMs: 10 * 60_000 });
  assert.match(out.text, /- 14:47 UTC: llm_rollback_failed: llama-3-8b to version 9 stopped at load \(409 rollback_failed\) by bob; version 2 still pinned\n/);
});

test('a rollback refused before it began (another in progress) says nothing was attempted', () => {
  const refused: GovernanceEvent = { ...base('14:47', 'rbr'), event: 'llm_rollback_failed', model: 'llama-3-8b', to_version: '1', stage: 'validate', status: 409, error_code: 'rollback_in_progress', message: 'A rollback of llama-3-8b is already in progress', serving_version: null, actor: 'bob', reason: null };
  const out = renderPostmortem(template, incident, { events: [...events, refused], now: t('16:30'), lookbackMs: 10 * 60_000 });
  assert.match(out.text, /- 14:47 UTC: llm_rollback_failed: llama-3-8b to version 1 refused \(409 rollback_in_progress\) by bob; nothing was attempted\n/);
});
