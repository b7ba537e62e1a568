/**
 * Incident arithmetic on recorded times: time to detect = detected − started, time to resolve =
 * resolved − detected (the seed's class read a detected_at it never set). Out-of-order times and
 * a resolution without a detection are refused instead of producing nonsense.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { IncidentError, IncidentLog, incidentStatus } from '../../../../src/governance/incidents/incident-log.js';
import { formatDuration, impactDurationMs, timeToDetectMs, timeToMitigateMs, timeToResolveMs } from '../../../../src/governance/incidents/incident-times.js';

const dir = await mkdtemp(join(tmpdir(), 'incidents-'));
after(() => rm(dir, { recursive: true, force: true }));

const t = (hhmm: string) => new Date(`2025-11-18T${hhmm}:00.000Z`);

test('durations come from the recorded times, and survive re-reading the log', async () => {
  const path = join(dir, 'a.jsonl');
  const log = new IncidentLog(path);
  const opened = await log.open({ severity: 'SEV2', title: 'llama 5xx', startedAt: t('14:25'), actor: 'alice', now: t('14:33') });
  assert.equal(incidentStatus(opened), 'open');
  assert.equal(timeToDetectMs(opened), null, 'no detection yet: no time to detect');
  await log.detect(opened.id, { at: t('14:30'), by: 'HighErrorRate', actor: 'alice', now: t('14:33') });
  await log.mitigate(opened.id, { at: t('14:50'), note: 'rolled back to version 1', actor: 'bob', now: t('14:51') });
  const resolved = await log.resolve(opened.id, { at: t('15:15'), rootCause: 'engine regression', actor: 'alice', now: t('15:16') });
  await log.close();

  const again = await new IncidentLog(path).get(opened.id);
  for (const inc of [resolved, again]) {
    assert.equal(timeToDetectMs(inc), 5 * 60_000);
    assert.equal(timeToMitigateMs(inc), 20 * 60_000);
    assert.equal(timeToResolveMs(inc), 45 * 60_000);
    assert.equal(impactDurationMs(inc), 25 * 60_000);
    assert.equal(incidentStatus(inc), 'resolved');
    assert.equal(inc.detectedBy, 'HighErrorRate');
    assert.equal(inc.rootCause, 'engine regression');
  }
  assert.equal(formatDuration(timeToResolveMs(again)), '45m 00s');
});

test('refuses out-of-order times, double detection and resolution without detection', async () => {
  const log = new IncidentLog(join(dir, 'b.jsonl'));
  const inc = await log.open({ severity: 'SEV3', title: 'slow', startedAt: t('10:00'), actor: 'a', now: t('10:05') });
  await assert.rejects(log.resolve(inc.id, { at: t('10:30'), actor: 'a', now: t('10:30') }), IncidentError);
  await assert.rejects(log.detect(inc.id, { at: t('09:59'), actor: 'a', now: t('10:05') }), /cannot be before the start/);
  await log.detect(inc.id, { at: t('10:10'), actor: 'a', now: t('10:10') });
  await assert.rejects(log.detect(inc.id, { at: t('10:11'), actor: 'a', now: t('10:11') }), /already detected/);
  await assert.rejects(log.resolve(inc.id, { at: t('10:09'), actor: 'a', now: t('10:20') }), /cannot be before detection/);
  await assert.rejects(log.get('INC-nope'), /no incident/);
  await assert.rejects(log.open({ severity: 'SEV3', title: 'x', startedAt: t('11:00'), actor: 'a', now: t('10:00') }), /future/);
  await log.close();
});

test('formatDuration', () => {
  assert.equal(formatDuration(null), '—');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(45_000), '45s');
  assert.equal(formatDuration(12 * 60_000 + 5_000), '12m 05s');
  assert.equal(formatDuration(2 * 3_600_000 + 3 * 60_000), '2h 03m');
  assert.equal(formatDuration(28 * 3_600_000 + 10 * 60_000), '1d 4h 10m');
});
