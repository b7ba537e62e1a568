/**
 * The runbooks: one per alert with the sections on-call needs, every runbook accounted for, and
 * every command that talks to the gateway, Triton or Prometheus aimed at an endpoint that exists,
 * with the admin token where the gateway requires it.
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, test } from 'node:test';
import { extractCurlCalls, matchRoute } from '../helpers/runbook-endpoints.js';
import { alertRules } from './support/alert-rules.js';
import { missingReason, runTool, which } from './support/external-tools.js';
import { gatewayRoutes, otherEndpoints } from './support/known-endpoints.js';
import { exists, listFiles, readText } from './support/repo-files.js';

/** Runbooks that are not about one alert, and why they exist. */
const generalDocuments: Record<string, string> = {
  'README.md': 'the index and the shell every runbook assumes',
  'incident-response.md': 'the incident procedure around the per-alert runbooks',
  'post-incident-review-template.md': 'the review document the incident CLI renders',
  'capacity-planning.md': 'sizing GPUs, batches and the gateway tier',
  'governance-events.md': 'the model lifecycle events on-call reads',
};

const alerts = alertRules();
const runbookFiles = listFiles('runbooks', ['.md']);
const alertRunbooks = alerts.map((a) => ({ alert: a.name, file: `runbooks/${a.name}.md` }));

describe('runbooks', () => {
  test('every alert has its runbook, with symptoms, impact, investigation, resolution and escalation', () => {
    for (const { alert, file } of alertRunbooks) {
      assert.ok(exists(file), `${file} is missing`);
      const text = readText(file);
      assert.match(text, new RegExp(`^# ${alert}\\n`), `${file}: title must be the alert name`);
      for (const section of ['Symptoms', 'Impact', 'Investigation', 'Resolution', 'Escalation']) {
        assert.match(text, new RegExp(`^## ${section}`, 'm'), `${file}: no "## ${section}" section`);
      }
    }
  });

  test('every runbook belongs to an alert or is a general procedure with a reason', () => {
    const alertNames = new Set(alerts.map((a) => a.name));
    for (const file of runbookFiles) {
      const name = basename(file);
      assert.ok(alertNames.has(name.replace(/\.md$/, '')) || generalDocuments[name], `${file} has no alert and no stated reason`);
    }
    for (const name of Object.keys(generalDocuments)) assert.ok(exists(`runbooks/${name}`), `runbooks/${name} is missing`);
  });

  test('the index links every runbook', () => {
    const index = readText('runbooks/README.md');
    for (const file of runbookFiles) {
      const name = basename(file);
      if (name !== 'README.md') assert.ok(index.includes(`](${name})`), `runbooks/README.md does not link ${name}`);
    }
  });

  test('each alert runbook shows the gateway diagnostics, PromQL, kubectl and a way to resolve', () => {
    for (const { file } of alertRunbooks) {
      const text = readText(file);
      assert.match(text, /\$GATEWAY_URL\/(debug|admin)\//, `${file}: no gateway diagnostics or admin call`);
      assert.match(text, /```promql\n/, `${file}: no PromQL`);
      assert.match(text, /kubectl /, `${file}: no kubectl command`);
      const resolution = text.slice(text.indexOf('## Resolution'), text.indexOf('## Escalation'));
      assert.match(resolution, /kubectl |\/admin\//, `${file}: resolution has no command`);
    }
  });
});

describe('commands in runbooks', () => {
  const calls = runbookFiles.flatMap((file) => extractCurlCalls(readText(file)).map((call) => ({ file, ...call })));

  test('are found', () => {
    assert.ok(calls.length > 60, `only ${calls.length} curl commands found`);
    assert.ok(calls.some((c) => c.path === '/debug/diagnostics'));
    assert.ok(calls.some((c) => c.path === '/debug/active-requests'));
  });

  test('call only endpoints that exist, through a named base URL', () => {
    for (const call of calls) {
      const where = `${call.file}:${call.line}: ${call.method} ${call.base}${call.path}`;
      if (call.base === 'GATEWAY_URL') {
        assert.ok(matchRoute(gatewayRoutes, call.method, call.path), `${where}: no such gateway route`);
      } else {
        const known = otherEndpoints[call.base];
        assert.ok(known, `${where}: use $GATEWAY_URL, $TRITON_HTTP_URL, $TRITON_METRICS_BASE, $PROMETHEUS_URL or $ALERTMANAGER_URL`);
        assert.ok(matchRoute(known, call.method, call.path), `${where}: not an endpoint of ${call.base}`);
      }
    }
  });

  test('send the admin token to /debug and /admin, and JSON with a content type', () => {
    for (const call of calls.filter((c) => c.base === 'GATEWAY_URL')) {
      const route = matchRoute(gatewayRoutes, call.method, call.path)!;
      const where = `${call.file}:${call.line}`;
      if (route.admin) assert.ok(call.headers.includes('Authorization: Bearer $GATEWAY_ADMIN_TOKEN'), `${where}: ${call.path} needs the admin token`);
      if (/ -d /.test(call.command) && call.method !== 'GET') {
        assert.ok(call.headers.some((h) => /^content-type: application\/json$/i.test(h)) || call.command.includes('-d "{}"'), `${where}: JSON body without content-type`);
      }
    }
  });

  test('change state through the per-pod helper, naming the actor for the audit trail', () => {
    const changes = calls.filter((c) => c.base === 'GATEWAY_URL' && c.method !== 'GET' && c.path.startsWith('/admin/'));
    assert.ok(changes.length > 20);
    for (const call of changes) {
      const line = readText(call.file).split('\n')[call.line - 1]!;
      assert.match(line, /runbooks\/bin\/each-gateway-pod\.sh '/, `${call.file}:${call.line}: admin changes must reach every pod`);
      assert.ok(call.headers.includes('x-actor: $USER'), `${call.file}:${call.line}: send x-actor so the audit log names who did it`);
    }
  });

  test('the per-pod helper is valid bash', { skip: which('bash') ? false : missingReason('bash', 'bash') }, async () => {
    const result = await runTool(which('bash')!, ['-n', 'runbooks/bin/each-gateway-pod.sh']);
    assert.equal(result.code, 0, result.stderr);
  });
});

describe('general procedures', () => {
  test('incident response walks detect, triage, debug, mitigate, roll back, review, with SEV1-SEV4', () => {
    const text = readText('runbooks/incident-response.md');
    const headings = [...text.matchAll(/^## \d\. (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(headings, ['Detect', 'Triage', 'Debug', 'Mitigate', 'Roll back', 'Review']);
    for (const sev of ['SEV1', 'SEV2', 'SEV3', 'SEV4']) assert.match(text, new RegExp(`\\*\\*${sev}\\*\\*`));
  });

  test('the post-incident template documents exactly the placeholders it uses', () => {
    const text = readText('runbooks/post-incident-review-template.md');
    const header = text.slice(0, text.indexOf('-->'));
    const body = text.slice(text.indexOf('-->'));
    const documented = new Set([...header.matchAll(/^ {2}([a-z_]+) {2,}/gm)].map((m) => m[1]!));
    const used = new Set([...body.matchAll(/\{\{([a-z_]+)\}\}/g)].map((m) => m[1]!));
    assert.deepEqual([...used].sort(), [...documented].sort());
    for (const required of ['title', 'timeline', 'started_at', 'detected_at', 'time_to_detect', 'action_items']) assert.ok(used.has(required), required);
  });

  test('governance events names the five events', () => {
    const text = readText('runbooks/governance-events.md');
    for (const event of ['llm_engine_published', 'llm_warmup_completed', 'llm_warmup_failed', 'llm_rollback_completed', 'llm_observability_alert']) {
      assert.match(text, new RegExp(`\\| \`${event}\` \\|`), event);
    }
  });

  test('capacity planning covers VRAM headroom, queue delay against batch size, and KV use from tokens', () => {
    const text = readText('runbooks/capacity-planning.md');
    assert.match(text, /25% VRAM headroom/);
    assert.match(text, /max_queue_delay_microseconds/);
    assert.match(text, /KV bytes per token/);
  });
});
