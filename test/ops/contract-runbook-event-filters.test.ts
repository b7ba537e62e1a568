/**
 * Contract: the jq filters runbooks apply to `GET /admin/events` to find "what changed" show the
 * version of every engine publish, warm-up and rollback. Real events of a real gateway (published
 * at start-up, a rollback through the admin API against the simulator's repository), fetched with
 * the runbook's own URL, projected with the runbook's own filter. The filter runs in-process
 * (support/jq-projection.ts) because CI has no jq; where jq is installed, it must agree.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { GovernanceEvent } from '../../src/governance/events.js';
import { extractCurlCalls, shellWords } from '../helpers/runbook-endpoints.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { expand } from './support/curl-request.js';
import { which } from './support/external-tools.js';
import { parseEventProjection } from './support/jq-projection.js';
import { listFiles, readText } from './support/repo-files.js';

const adminToken = 'event-filter-test-admin-token-0123';
const shellValues = { MODEL: 'llama-3-8b', GATEWAY_URL: '', GATEWAY_ADMIN_TOKEN: adminToken };
const tritonModel = 'llama-3-8b-trtllm';

interface EventFilter {
  where: string;
  url: string;
  filter: string;
}

const filters: EventFilter[] = listFiles('runbooks', ['.md']).flatMap((file) =>
  extractCurlCalls(readText(file))
    .filter((c) => c.base === 'GATEWAY_URL' && c.path === '/admin/events')
    .flatMap((c) => {
      const filter = /\|\s*jq\s+(?:-\S+\s+)*'([^']*)'/.exec(c.command)?.[1];
      const url = shellWords(c.command).find((w) => w.startsWith('$GATEWAY_URL') || w.startsWith('${GATEWAY_URL}'));
      return filter?.startsWith('.events[]') && url ? [{ where: `${file}:${c.line}`, url: expand(url, shellValues), filter }] : [];
    }),
);
const understood = (f: EventFilter) => {
  try {
    return parseEventProjection(f.filter);
  } catch {
    return undefined;
  }
};
const versionFilters = filters.filter((f) => understood(f)?.columns.includes('version'));

let stack: Stack;

before(async () => {
  stack = await startStack({
    sim: { models: [{ name: tritonModel, flavour: 'ensemble', versions: [1, 2] }] },
    config: { models: [{ name: 'llama-3-8b', tritonModel }], auth: { adminToken }, governance: { enginePollMs: 0 } },
  });
  const res = await stack.app.inject({
    method: 'POST',
    url: '/admin/models/llama-3-8b/rollback',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    payload: { version: '1', reason: 'event filter test' },
  });
  assert.equal(res.statusCode, 200, res.body);
});
after(async () => stack?.close());

async function eventsAt(url: string): Promise<{ events: GovernanceEvent[] }> {
  const res = await stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  return res.json();
}

describe('runbook jq filters over /admin/events', () => {
  test('are all of the shape this test evaluates', () => {
    assert.deepEqual(filters.filter((f) => !understood(f)).map((f) => `${f.where}: ${f.filter}`), []);
  });

  test('the runbooks that look for engine changes project a version column', () => {
    assert.ok(versionFilters.length >= 4, `only ${versionFilters.length} filters with a version column: ${versionFilters.map((f) => f.where).join(', ')}`);
  });

  test('show the version of every publish, warm-up and rollback, and where a rollback came from', async () => {
    for (const { where, url, filter } of versionFilters) {
      const response = await eventsAt(url);
      const kinds = new Set<string>(response.events.map((e) => e.event));
      for (const kind of ['llm_engine_published', 'llm_warmup_completed', 'llm_rollback_completed']) assert.ok(kinds.has(kind), `${where}: no ${kind} in ${url}`);
      const projection = parseEventProjection(filter);
      const rows = projection.apply(response);
      response.events.filter((event) => projection.keeps(event)).forEach((event, i) => {
        const row = rows[i]!;
        const label = `${where}: ${filter} on ${event.event}`;
        if (event.event === 'llm_engine_published') assert.equal(row.version, event.engine.version, label);
        if (event.event === 'llm_warmup_completed' || event.event === 'llm_warmup_failed') assert.equal(row.version, event.version, label);
        if (event.event === 'llm_rollback_completed') {
          assert.equal(row.version, event.to_version, label);
          assert.equal(row.from_version, event.from_version, `${label}: from_version`);
        }
      });
    }
  });

  const jq = which('jq');
  test('the in-process evaluation is what jq prints', { skip: jq ? false : 'jq not installed (.ci/run installs it; the evaluation above still runs)' }, async () => {
    assert.ok(filters.length > versionFilters.length, 'filters without a version column are compared too');
    for (const { where, url, filter } of filters) {
      const response = await eventsAt(url);
      const printed = execFileSync(jq!, ['-c', filter], { input: JSON.stringify(response), encoding: 'utf8' });
      const byJq = printed.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
      assert.deepEqual(parseEventProjection(filter).apply(response), byJq, where);
    }
  });
});
