/**
 * Webhook URLs and secrets: `user:pass@` in the URL goes out as Basic auth (Node's fetch refuses
 * such a URL), nothing secret in the URL reaches a log line, and a request fetch cannot build
 * is tried once, not retried until dropped. A real local receiver, a log that records lines.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { parseConfig } from '../../../src/config.js';
import { WebhookNotifier } from '../../../src/governance/webhook.js';
import { freePort } from '../../helpers/free-port.js';

interface Seen {
  url: string;
  authorization: string | undefined;
}

async function receiver(): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    for await (const _ of req);
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.statusCode = 204;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as AddressInfo).port, seen };
}

function recordingLog(): { lines: string[]; log: { info(o: object, m?: string): void; warn(o: object, m?: string): void } } {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (o, m) => lines.push(`${m} ${JSON.stringify(o)}`),
      warn: (o, m) => lines.push(`${m} ${JSON.stringify(o)}`),
    },
  };
}

test('user:pass@ in the URL is sent as Basic auth, not refused by fetch', async () => {
  const r = await receiver();
  const { lines, log } = recordingLog();
  const hook = new WebhookNotifier({ url: `http://fin%40ance:s3cr3t-pass@127.0.0.1:${r.port}/alerts?token=tok123`, name: 'finance', retries: 2, baseDelayMs: 5, timeoutMs: 2000, log });
  hook.send({ status: 'firing' }, 'k1');
  await hook.idle();
  assert.deepEqual(hook.snapshot(), { delivered: 1, failed: 0, dropped: 0, attempts: 1, queued: 0 });
  assert.deepEqual(r.seen, [{ url: '/alerts?token=tok123', authorization: `Basic ${Buffer.from('fin@ance:s3cr3t-pass').toString('base64')}` }]);
  assert.equal(hook.url, `http://127.0.0.1:${r.port}/alerts?token=tok123`);
  assert.deepEqual(lines, []);
  await hook.close();
});

test('a request fetch cannot build fails once, and the log line has no part of the URL but its origin', async () => {
  const { lines, log } = recordingLog();
  // fetch quotes the whole URL in its error ("Failed to parse URL from http://[bad/...").
  const hook = new WebhookNotifier({ url: 'http://[bad/alerts?token=tok123', name: 'finance', retries: 3, baseDelayMs: 5, timeoutMs: 2000, log });
  hook.send({ status: 'firing' }, 'k1');
  await hook.idle();
  assert.deepEqual(hook.snapshot(), { delivered: 0, failed: 1, dropped: 0, attempts: 1, queued: 0 }, 'not retried');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^webhook delivery failed .*"err":"TypeError: Failed to parse URL from invalid-url/);
  assert.doesNotMatch(lines[0]!, /tok123|alerts|\[bad/);
  await hook.close();
});

test('network failures are still retried, and their log line names the origin only', async () => {
  const { lines, log } = recordingLog();
  // Nothing listens on a port just closed.
  const port = await freePort();
  const hook = new WebhookNotifier({ url: `http://user:s3cr3t-pass@127.0.0.1:${port}/alerts?token=tok123`, name: 'finance', retries: 2, baseDelayMs: 5, timeoutMs: 2000, log });
  hook.send({ status: 'firing' });
  await hook.idle();
  assert.equal(hook.snapshot().attempts, 3);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, new RegExp(`"url":"http://127\\.0\\.0\\.1:${port}".*"err":"TypeError: fetch failed \\(.*ECONNREFUSED`));
  assert.doesNotMatch(lines[0]!, /s3cr3t|tok123|alerts/);
  await hook.close();
});

test('config takes http(s) webhook URLs, with or without credentials, and refuses other schemes', () => {
  const base = { triton: { targets: [{ name: 'primary', grpc: '127.0.0.1:8001' }] } };
  const ok = parseConfig({ ...base, governance: { financeWebhookUrl: 'https://finance:s3cr3t@hooks.example.com/a' } });
  assert.equal(ok.governance.financeWebhookUrl, 'https://finance:s3cr3t@hooks.example.com/a');
  assert.throws(
    () => parseConfig({ ...base, governance: { webhookUrl: 'ftp://hooks.example.com/a', financeWebhookUrl: 'file:///tmp/x' } }),
    (err: Error) => /governance\.webhookUrl: must be an http:\/\/ or https:\/\/ URL/.test(err.message) && /governance\.financeWebhookUrl: must be an http/.test(err.message),
  );
});
