import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from '../../src/fleet/webhooks.js';

export const SECRET = 'webhook-secret-of-the-registry-0123456789';

/** A receiver as an integration would write it: verifies each delivery, keeps each event id once. */
export async function receiver(behaviour: (n: number) => number) {
  const seen = new Map<string, { body: Record<string, unknown>; times: number }>();
  const refused: string[] = [];
  let requests = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const check = verifyWebhook(SECRET, { signature: req.headers[SIGNATURE_HEADER] as string, timestamp: req.headers[TIMESTAMP_HEADER] as string }, body);
      if (!check.ok) {
        refused.push(check.reason);
        res.writeHead(401).end();
        return;
      }
      const status = behaviour(++requests);
      if (status === 200) {
        const id = String(req.headers[EVENT_ID_HEADER]);
        const entry = seen.get(id);
        seen.set(id, { body: JSON.parse(body), times: (entry?.times ?? 0) + 1 });
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, seen, refused, requests: () => requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

