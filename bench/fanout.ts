/**
 * Live fan-out: 1,000 graphql-ws subscribers of `compartmentChanged` on one Yoga server, in a
 * second process (bench/fanout-clients.ts). A compartment door is forced open through the box's
 * simulated world (device-level hardware, so the door event is immediate and no I2C poll period is
 * in the figure); we time from the change to the moment the last subscriber has it. Baseline: the
 * same 1,000 clients receiving the same JSON frame from a bare `ws` broadcast in this process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { createBox } from '../src/box.js';
import { createServer } from '../src/server/index.js';
import { benchCompartments, median, monoMs, percentile, ROOT, row, sleep, TOKENS, type BenchContext, type Row } from './lib.js';

type ChildMessage =
  | { type: 'ready' }
  | { type: 'connected'; gqlMs: number; rawMs: number }
  | { type: 'got'; kind: 'gql' | 'raw'; key: string; first: number; last: number }
  | { type: 'error'; error: string };

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  const subscribers = quick ? 200 : 1_000;
  const changes = quick ? 5 : 20;
  const compartments = benchCompartments(608);
  const box = await createBox({ storage: 'memory:', compartments, hardware: 'simulated', hoursPreset: 'always' });
  const server = createServer(box, { tokens: TOKENS, engine: 'yoga', logError: () => {} });
  const { url } = await server.listen(0, '127.0.0.1');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const rawUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

  const child: ChildProcess = fork(join(ROOT, 'bench/fanout-clients.ts'), [url.replace(/^http/, 'ws'), rawUrl, String(subscribers), TOKENS.monitor], {
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

  try {
    const readyP = waitFor((m): m is { type: 'ready' } => m.type === 'ready', 120_000, 'all subscriptions');
    const connected = await waitFor((m): m is Extract<ChildMessage, { type: 'connected' }> => m.type === 'connected', 120_000, 'connections');
    log(`${subscribers} graphql-ws clients connected in ${connected.gqlMs.toFixed(0)} ms, raw ws in ${connected.rawMs.toFixed(0)} ms`);

    // Changes go to distinct compartments; the first ones warm up until every subscriber got one.
    let next = 0;
    const world = box.world!;
    let ready = false;
    void readyP.then(() => (ready = true));
    const warmStart = monoMs();
    while (!ready) {
      world.forceDoor(compartments[next++]!.id);
      await Promise.race([readyP, sleep(300)]);
      if (monoMs() - warmStart > 60_000) throw new Error('fan-out: subscribers never all received a change');
    }
    await sleep(300);

    const gqlLast: number[] = [];
    const gqlFirst: number[] = [];
    for (let k = 0; k < changes; k++) {
      const id = compartments[next++]!.id;
      const got = waitFor((m): m is Extract<ChildMessage, { type: 'got' }> => m.type === 'got' && m.kind === 'gql' && m.key === id, 30_000, `change ${id}`);
      const t0 = monoMs();
      world.forceDoor(id);
      const m = await got;
      gqlLast.push(m.last - t0);
      gqlFirst.push(m.first - t0);
      await sleep(100);
    }
    log(`graphql fan-out to ${subscribers}: last p50 ${median(gqlLast).toFixed(1)} ms, p99 ${percentile(gqlLast, 99).toFixed(1)} ms; first p50 ${median(gqlFirst).toFixed(1)} ms`);

    // Baseline: the frame graphql-ws would send, broadcast by a bare ws server.
    const rawLast: number[] = [];
    for (let k = 0; k < changes; k++) {
      const id = `R${k}`;
      const view = { ...box.compartment(compartments[0]!.id)!, id };
      const frame = JSON.stringify({ id: '1', type: 'next', payload: { data: { compartmentChanged: view } } });
      const got = waitFor((m): m is Extract<ChildMessage, { type: 'got' }> => m.type === 'got' && m.kind === 'raw' && m.key === id, 30_000, `raw ${id}`);
      const t0 = monoMs();
      for (const client of wss.clients) client.send(frame);
      const m = await got;
      rawLast.push(m.last - t0);
      await sleep(100);
    }
    log(`raw ws broadcast to ${subscribers}: last p50 ${median(rawLast).toFixed(1)} ms, p99 ${percentile(rawLast, 99).toFixed(1)} ms`);

    const B = `live fan-out, ${subscribers} subscribers (Yoga)`;
    const RAW = `bare ws broadcast, ${subscribers} clients`;
    return [
      row(B, 'change → last subscriber, p50', median(gqlLast), 'ms', RAW, median(rawLast),
        'one shared read model turns the commit into a view; each subscription runs execute() on it and sends; clients in a 2nd process'),
      row(B, 'change → last subscriber, p99', percentile(gqlLast, 99), 'ms', RAW, percentile(rawLast, 99), `over ${changes} changes (forced doors on distinct compartments, device-level sim)`),
      row(B, `connect + ack ${subscribers} graphql-ws clients`, connected.gqlMs, 'ms', `connect ${subscribers} bare ws clients`, connected.rawMs,
        'graphql-ws handshake + token check + subscription start'),
    ];
  } finally {
    child.send?.({ type: 'stop' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await server.close();
    await box.close();
  }
}
