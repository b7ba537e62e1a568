/**
 * A local HTTP server standing in for every notification endpoint of the Alertmanager config:
 * the default webhook, Slack's incoming webhook and PagerDuty's Events API. It answers 200 and
 * keeps each JSON body with the path it was posted to.
 */
import { createServer } from 'node:http';

export interface ReceivedNotification {
  path: string;
  body: any;
  receivedAt: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT` */
  url: string;
  received: ReceivedNotification[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedNotification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* kept raw: a test assertion will show it */
      }
      received.push({ path: req.url ?? '/', body, receivedAt: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
