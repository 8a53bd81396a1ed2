/**
 * The subscriber side of bench/fanout.ts, in its own process: N WebSocket clients, either speaking
 * graphql-ws (`graphql-transport-ws`: connection_init, subscribe to `compartmentChanged`) or
 * plain clients of the bare-broadcast baseline. Both kinds parse every frame the same way, so the
 * comparison measures the server, not the client library. Reports over IPC when every client has
 * received a given change, with CLOCK_MONOTONIC times the parent process can compare with its own.
 */
import WebSocket from 'ws';

const [url, countText, kind, token] = process.argv.slice(2) as [string, string, 'gql' | 'raw', string];
const N = Number(countText);
const mono = (): number => Number(process.hrtime.bigint()) / 1e6;
const send = (m: Record<string, unknown>): void => void process.send?.(m);
const QUERY = 'subscription { compartmentChanged { id state door lock fault inService } }';

interface Arrivals {
  count: number;
  first: number;
  last: number;
}

async function main(): Promise<void> {
  const byKey = new Map<string, Arrivals>();
  const seen = Array.from({ length: N }, () => new Set<string>());
  const gotAny = new Set<number>();
  const arrived = (client: number, key: string) => {
    if (!gotAny.has(client)) {
      gotAny.add(client);
      if (gotAny.size === N) send({ type: 'ready' });
    }
    const mine = seen[client]!;
    if (mine.has(key)) return;
    mine.add(key);
    const t = mono();
    const a = byKey.get(key) ?? { count: 0, first: t, last: t };
    a.count++;
    a.last = t;
    byKey.set(key, a);
    if (a.count === N) send({ type: 'got', key, first: a.first, last: a.last });
  };

  const sockets: WebSocket[] = [];
  const t0 = mono();
  // Connected in batches so the listen backlog never overflows; a graphql-ws client counts as
  // connected once its subscription is sent after the server's connection_ack.
  for (let start = 0; start < N; start += 200) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(N, start + 200); i++) {
      const ws = kind === 'gql' ? new WebSocket(url, 'graphql-transport-ws') : new WebSocket(url);
      sockets.push(ws);
      batch.push(
        new Promise((resolve, reject) => {
          ws.once('error', reject);
          ws.once('open', () => {
            if (kind === 'raw') return resolve();
            ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
          });
          ws.on('message', (data) => {
            const m = JSON.parse(String(data)) as { type: string; payload?: { data?: { compartmentChanged?: { id: string } } } };
            if (m.type === 'next') {
              const id = m.payload?.data?.compartmentChanged?.id;
              if (id) arrived(i, id);
            } else if (m.type === 'connection_ack') {
              ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY } }));
              resolve();
            } else if (m.type === 'error') {
              send({ type: 'error', error: JSON.stringify(m.payload) });
            } else if (m.type === 'ping') {
              ws.send('{"type":"pong"}');
            }
          });
        }),
      );
    }
    await Promise.all(batch);
  }
  send({ type: 'connected', ms: mono() - t0 });

  process.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  });
}

main().catch((e) => {
  send({ type: 'error', error: String(e?.stack ?? e) });
  process.exit(1);
});
