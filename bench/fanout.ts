/**
 * Live fan-out over graphql-ws on one Yoga server: N subscribers of `compartmentChanged` (the same
 * document and grant, so they share one stream — src/server/fanout.ts), in a second process
 * (bench/fanout-clients.ts). A compartment door is forced open through the box's simulated world
 * (device-level hardware, so the door event is immediate and no I2C poll period is in the figure);
 * we time from the change to the moment the last subscriber has it. Baseline: the same number of
 * plain WebSocket clients, parsing frames the same way, receiving the same frame from a bare `ws`
 * broadcast in this process. Measured with 1,000 subscribers and with 10,000 (the two kinds of
 * clients one after the other: 20,000 sockets at once would pass the process' file limit); memory
 * per subscriber is this process' heap growth (after GC) divided by the subscribers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { createBox } from '../src/box.js';
import { createServer } from '../src/server/index.js';
import { benchCompartments, gc, median, monoMs, percentile, ROOT, row, sleep, TOKENS, type BenchContext, type Row } from './lib.js';

type ChildMessage =
  | { type: 'ready' }
  | { type: 'connected'; ms: number }
  | { type: 'got'; key: string; first: number; last: number }
  | { type: 'error'; error: string };

interface Clients {
  connectMs: number;
  /** heap growth of this process (after GC) per connected client, bytes; RSS is too coarse to divide */
  heapPerClient: number;
  waitFor<T extends ChildMessage>(accept: (m: ChildMessage) => m is T, timeoutMs: number, what: string): Promise<T>;
  ready: Promise<unknown>;
  stop(): Promise<void>;
}

const memory = () => {
  gc();
  return { heap: process.memoryUsage().heapUsed };
};

/** Forks the client process with `count` clients of `kind` and waits until they are connected. */
async function connectClients(url: string, count: number, kind: 'gql' | 'raw'): Promise<Clients> {
  const before = memory();
  const child: ChildProcess = fork(join(ROOT, 'bench/fanout-clients.ts'), [url, String(count), kind, TOKENS.monitor], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters: Array<(m: ChildMessage) => boolean> = [];
  let failure: string | null = null;
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'error') failure = m.error;
    for (let i = 0; i < waiters.length; i++) {
      if (waiters[i]!(m)) {
        waiters.splice(i, 1);
        return;
      }
    }
  });
  const waitFor = <T extends ChildMessage>(accept: (m: ChildMessage) => m is T, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fan-out: timed out waiting for ${what}${failure ? ` (${failure})` : ''}`)), timeoutMs);
      waiters.push((m) => {
        if (!accept(m)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      });
    });
  const ready = waitFor((m): m is { type: 'ready' } => m.type === 'ready', 300_000, `every ${kind} client's first change`);
  ready.catch(() => undefined);
  const connected = await waitFor((m): m is Extract<ChildMessage, { type: 'connected' }> => m.type === 'connected', 300_000, `${count} ${kind} connections`);
  await sleep(500);
  const after = memory();
  return {
    connectMs: connected.ms,
    heapPerClient: (after.heap - before.heap) / count,
    waitFor,
    ready,
    async stop() {
      child.send?.({ type: 'stop' });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await sleep(300);
    },
  };
}

/** Times `changes` changes from `emit(key)` until every client has the one named `key`. */
async function timeChanges(clients: Clients, keys: string[], emit: (key: string) => void): Promise<{ first: number[]; last: number[] }> {
  const first: number[] = [];
  const last: number[] = [];
  for (const key of keys) {
    const got = clients.waitFor((m): m is Extract<ChildMessage, { type: 'got' }> => m.type === 'got' && m.key === key, 60_000, `change ${key}`);
    const t0 = monoMs();
    emit(key);
    const m = await got;
    last.push(m.last - t0);
    first.push(m.first - t0);
    await sleep(100);
  }
  return { first, last };
}

async function scenario(subscribers: number, changes: number, log: (line: string) => void): Promise<Row[]> {
  const compartments = benchCompartments(608);
  const box = await createBox({ storage: 'memory:', compartments, hardware: 'simulated', hoursPreset: 'always' });
  const server = createServer(box, { tokens: TOKENS, engine: 'yoga', logError: () => {} });
  const { url } = await server.listen(0, '127.0.0.1');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 1024 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const rawUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  try {
    // graphql-ws subscribers; the first changes warm up until every subscriber got one.
    const gql = await connectClients(url.replace(/^http/, 'ws'), subscribers, 'gql');
    log(`${subscribers} graphql-ws subscribers connected in ${gql.connectMs.toFixed(0)} ms; ${(gql.heapPerClient / 1024).toFixed(1)} KiB heap each`);
    let next = 0;
    const world = box.world!;
    let ready = false;
    void gql.ready.then(() => (ready = true));
    const warmStart = monoMs();
    while (!ready) {
      world.forceDoor(compartments[next++]!.id);
      await Promise.race([gql.ready, sleep(500)]);
      if (monoMs() - warmStart > 120_000) throw new Error('fan-out: subscribers never all received a change');
    }
    await sleep(300);
    const keys = compartments.slice(next, next + changes).map((c) => c.id);
    const g = await timeChanges(gql, keys, (id) => world.forceDoor(id));
    await gql.stop();
    log(`graphql fan-out to ${subscribers}: last p50 ${median(g.last).toFixed(1)} ms, p99 ${percentile(g.last, 99).toFixed(1)} ms; first p50 ${median(g.first).toFixed(1)} ms`);

    // Baseline: the frame graphql-ws sends, broadcast by a bare ws server to plain clients.
    const raw = await connectClients(rawUrl, subscribers, 'raw');
    const r = await timeChanges(raw, Array.from({ length: changes }, (_, k) => `R${k}`), (id) => {
      const frame = JSON.stringify({ id: '1', type: 'next', payload: { data: { compartmentChanged: { ...box.compartment(compartments[0]!.id)!, id } } } });
      for (const client of wss.clients) client.send(frame);
    });
    await raw.stop();
    log(`raw ws broadcast to ${subscribers}: last p50 ${median(r.last).toFixed(1)} ms, p99 ${percentile(r.last, 99).toFixed(1)} ms; ${(raw.heapPerClient / 1024).toFixed(1)} KiB heap each`);

    const B = `live fan-out, ${subscribers.toLocaleString('en')} subscribers (Yoga, graphql-ws)`;
    const RAW = `bare ws broadcast, ${subscribers.toLocaleString('en')} clients`;
    return [
      row(B, 'change → last subscriber, p50', median(g.last), 'ms', RAW, median(r.last),
        'identical subscriptions share one stream: one execute() and one JSON.stringify per change, then a frame per socket; clients in a 2nd process, parsing frames alike'),
      row(B, 'change → last subscriber, p99', percentile(g.last, 99), 'ms', RAW, percentile(r.last, 99), `over ${changes} changes (forced doors on distinct compartments, device-level sim)`),
      row(B, 'server heap per subscriber', gql.heapPerClient / 1024, 'KiB', 'per bare ws client', raw.heapPerClient / 1024, 'heap growth of the server process after GC ÷ clients (graphql-ws context, subscription, socket)'),
      row(B, `connect + subscribe ${subscribers.toLocaleString('en')} clients`, gql.connectMs, 'ms', `connect ${subscribers.toLocaleString('en')} bare ws clients`, raw.connectMs,
        'graphql-ws handshake + token check + subscription start, 200 at a time'),
    ];
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await server.close();
    await box.close();
  }
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  const rows = await scenario(quick ? 200 : 1_000, quick ? 5 : 20, log);
  if (!quick) rows.push(...(await scenario(10_000, 10, log)));
  return rows;
}
