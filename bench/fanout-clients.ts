/**
 * The subscriber side of bench/fanout.ts, in its own process: N graphql-ws clients subscribed to
 * `compartmentChanged`, and N plain WebSocket clients for the raw-broadcast baseline. Reports over
 * IPC when every client has received a given change, with CLOCK_MONOTONIC times that the parent
 * process can compare with its own.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const [gqlUrl, rawUrl, countText, token] = process.argv.slice(2);
const N = Number(countText);
const mono = (): number => Number(process.hrtime.bigint()) / 1e6;
const send = (m: Record<string, unknown>): void => void process.send?.(m);

interface Arrivals {
  count: number;
  first: number;
  last: number;
}

/** Counts the first arrival of each key at each client; reports once all N clients have it. */
function tracker(kind: 'gql' | 'raw') {
  const byKey = new Map<string, Arrivals>();
  const seen = Array.from({ length: N }, () => new Set<string>());
  return (client: number, key: string) => {
    const mine = seen[client]!;
    if (mine.has(key)) return;
    mine.add(key);
    const t = mono();
    const a = byKey.get(key) ?? { count: 0, first: t, last: t };
    a.count++;
    a.last = t;
    byKey.set(key, a);
    if (a.count === N) send({ type: 'got', kind, key, first: a.first, last: a.last });
  };
}

async function main(): Promise<void> {
  const gqlArrived = tracker('gql');
  const rawArrived = tracker('raw');
  const gotAny = new Set<number>();
  const clients: Client[] = [];

  // graphql-ws subscribers, connected in batches so the listen backlog never overflows.
  const t0 = mono();
  for (let start = 0; start < N; start += 100) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(N, start + 100); i++) {
      const client = createClient({
        url: gqlUrl!,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${token}` },
      });
      clients.push(client);
      batch.push(new Promise((resolve, reject) => {
        client.on('connected', () => resolve());
        client.on('error', reject);
      }));
      client.subscribe<{ compartmentChanged: { id: string } }>(
        { query: 'subscription { compartmentChanged { id state door lock fault inService } }' },
        {
          next: (r) => {
            const id = r.data?.compartmentChanged.id;
            if (!id) return;
            if (!gotAny.has(i)) {
              gotAny.add(i);
              if (gotAny.size === N) send({ type: 'ready' });
            }
            gqlArrived(i, id);
          },
          error: (e) => send({ type: 'error', error: String((e as Error)?.message ?? e) }),
          complete: () => {},
        },
      );
    }
    await Promise.all(batch);
  }
  const gqlMs = mono() - t0;

  // Plain WebSocket clients for the baseline broadcast.
  const raws: WebSocket[] = [];
  const t1 = mono();
  for (let start = 0; start < N; start += 100) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(N, start + 100); i++) {
      const ws = new WebSocket(rawUrl!);
      raws.push(ws);
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { payload: { data: { compartmentChanged: { id: string } } } };
        rawArrived(i, m.payload.data.compartmentChanged.id);
      });
      batch.push(new Promise((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }));
    }
    await Promise.all(batch);
  }
  const rawMs = mono() - t1;
  send({ type: 'connected', gqlMs, rawMs });

  process.on('message', async (m: { type: string }) => {
    if (m.type !== 'stop') return;
    for (const ws of raws) ws.terminate();
    await Promise.all(clients.map((c) => c.dispose()));
    process.exit(0);
  });
}

main().catch((e) => {
  send({ type: 'error', error: String(e?.stack ?? e) });
  process.exit(1);
});
