/**
 * Group commit: messages committed per second through the supervisor's real commit path
 * (actors/runtime/supervisor.ts → src/persistence/keyv-persistence.ts) on an SQLite file with WAL
 * and synchronous=FULL, with group commit (every commit ready in one turn shares a transaction)
 * against one transaction per commit (`groupCommit: false`), for 8 and 64 concurrent producers.
 * Then the journal step of a compartment — `unlock` handled, its intent, audit record and timers
 * committed, the pulse started — with durable sync, alone and beside 8 busy producers.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { compartmentActor } from '../actors/compartment.js';
import { SystemClock } from '../actors/runtime/clock.js';
import { defineActor } from '../actors/runtime/define.js';
import { Supervisor } from '../actors/runtime/supervisor.js';
import { openPersistence } from '../src/persistence/keyv-persistence.js';
import { median, nowMs, percentile, ROOT, row, sleep, type BenchContext, type Row } from './lib.js';

type ProducerEvent = { type: 'produce'; n: number };
type SinkEvent = { type: 'item'; n: number };

/** A producer commits its count with the item it sends and the message that makes it produce again. */
const producer = defineActor<{ sink: string; produced: number }, ProducerEvent>({
  kind: 'producer',
  init: (input: { sink: string }) => ({ sink: input.sink, produced: 0 }),
  on: {
    produce: (ctx, e, enq) => {
      enq.emit.send({ to: ctx.sink, message: { type: 'item', n: e.n } });
      enq.emit.send({ to: `producer/${ctx.sink.slice('sink/'.length)}`, message: { type: 'produce', n: e.n + 1 } });
      return { ...ctx, produced: ctx.produced + 1 };
    },
  },
});

/** A sink commits each item it receives (and, with it, that the item's message was handled). */
const sink = defineActor<{ received: number; last: number }, SinkEvent>({
  kind: 'sink',
  init: () => ({ received: 0, last: -1 }),
  on: { item: (ctx, e) => ({ received: ctx.received + 1, last: e.n }) },
});

/** The bench's files go to the work tree's disk, never to a tmpfs where fsync costs nothing. */
function diskDir(): string {
  mkdirSync(join(ROOT, 'bench', '.scratch'), { recursive: true });
  return mkdtempSync(join(ROOT, 'bench', '.scratch', 'group-commit-'));
}

interface Throughput {
  /** items received and committed by the sinks per second */
  perSecond: number;
  transactions: number;
}

/** `producers` producer → sink pairs running for `seconds`; counts what the sinks have committed. */
async function throughput(producers: number, groupCommit: boolean, seconds: number): Promise<Throughput> {
  const dir = diskDir();
  const persistence = await openPersistence(`sqlite://${join(dir, 'bench.sqlite')}`);
  let transactions = 0;
  const counted = { ...persistence, commit: (batch: Parameters<typeof persistence.commit>[0]) => (transactions++, persistence.commit(batch)) };
  const supervisor = new Supervisor({ clock: new SystemClock(), persistence: counted, behaviors: [producer, sink], groupCommit });
  try {
    for (let i = 0; i < producers; i++) {
      await supervisor.spawn(`sink/${i}`, 'sink');
      await supervisor.spawn(`producer/${i}`, 'producer', { sink: `sink/${i}` });
    }
    const received = () => supervisor.viewsOf<{ received: number }>('sink').reduce((sum, v) => sum + v.ctx.received, 0);
    // Warm-up, then the measured window: the sinks' committed counts at its start and end.
    for (let i = 0; i < producers; i++) supervisor.send(`producer/${i}`, { type: 'produce', n: 0 });
    await sleep(300);
    const [r0, tx0, t0] = [received(), transactions, nowMs()];
    await sleep(seconds * 1000);
    const [r1, tx1, t1] = [received(), transactions, nowMs()];
    return { perSecond: ((r1 - r0) * 1000) / (t1 - t0), transactions: tx1 - tx0 };
  } finally {
    await supervisor.close();
    await persistence.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sequential one-key transactions through the persistence: what one commit costs, with and without its fsync. */
async function commitsPerSecond(synchronous: 'FULL' | 'OFF', n: number): Promise<number> {
  const dir = diskDir();
  const persistence = await openPersistence(`sqlite://${join(dir, 'fsync.sqlite')}`);
  try {
    // The store opens with synchronous=FULL; the comparison switches it off on the same connection.
    await persistence.query!(`PRAGMA synchronous = ${synchronous}`);
    for (let i = 0; i < 20; i++) await persistence.commit({ probe: i });
    const t0 = nowMs();
    for (let i = 0; i < n; i++) await persistence.commit({ probe: i });
    return (n * 1000) / (nowMs() - t0);
  } finally {
    await persistence.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The journal step: from `unlock` sent to the compartment until its pulse starts — the handler,
 * the commit of the intent (state, audit record, timers) with fsync, then the pulse I/O.
 * With `busyProducers`, that many producers keep the store busy meanwhile.
 */
async function journalStep(n: number, busyProducers: number): Promise<number[]> {
  const dir = diskDir();
  const persistence = await openPersistence(`sqlite://${join(dir, 'journal.sqlite')}`);
  let pulsed: (() => void) | null = null;
  const compartment = compartmentActor(
    { doorWindowMs: 30_000, doorLeftOpenMs: 60_000 },
    {
      pulse: async () => pulsed?.(),
      door: async () => 'closed',
    },
  );
  const supervisor = new Supervisor({ clock: new SystemClock(), persistence, behaviors: [compartment, producer, sink] });
  const times: number[] = [];
  try {
    await supervisor.spawn('compartment/A01', 'compartment', { id: 'A01', size: 'S', accessible: false });
    for (let i = 0; i < busyProducers; i++) {
      await supervisor.spawn(`sink/${i}`, 'sink');
      await supervisor.spawn(`producer/${i}`, 'producer', { sink: `sink/${i}` });
      supervisor.send(`producer/${i}`, { type: 'produce', n: 0 });
    }
    for (let i = -20; i < n; i++) {
      // A load opens the empty compartment, a collect the full one: the door cycle brings it back.
      const purpose = i % 2 === 0 ? 'load' : 'collect';
      const done = new Promise<void>((resolve) => (pulsed = resolve));
      const t0 = nowMs();
      supervisor.send('compartment/A01', { type: 'unlock', opId: `op-${i}`, purpose, pickupId: 'P1', cause: { kind: 'staff', staffId: 'bench' } });
      await done;
      if (i >= 0) times.push(nowMs() - t0);
      // Let pulse.done commit, then the door opens and closes.
      while ((supervisor.view<{ lock: string }>('compartment/A01')!.ctx.lock as string) !== 'released') await sleep(0);
      supervisor.send('compartment/A01', { type: 'door.changed', door: 'open' });
      supervisor.send('compartment/A01', { type: 'door.changed', door: 'closed' });
      while (supervisor.view<{ state: string }>('compartment/A01')!.ctx.state !== (purpose === 'load' ? 'occupied' : 'free')) await sleep(0);
    }
    return times;
  } finally {
    await supervisor.close();
    await persistence.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  const seconds = quick ? 1 : 3;
  const rows: Row[] = [];
  const B = 'group commit: committed messages/s (SQLite, synchronous=FULL)';
  const base = 'one transaction per message';
  for (const producers of [8, 64]) {
    const single = await throughput(producers, false, seconds);
    const grouped = await throughput(producers, true, seconds);
    log(`${producers} producers: group commit ${grouped.perSecond.toFixed(0)}/s (${grouped.transactions} transactions), one per message ${single.perSecond.toFixed(0)}/s (${single.transactions} transactions)`);
    rows.push(
      row(
        B,
        `${producers} concurrent producers`,
        grouped.perSecond,
        'msgs/s',
        base,
        single.perSecond,
        `target ≥ 10×; each item is two commits (producer: state + item + next message; sink: state + handled mark); ${(grouped.transactions / seconds).toFixed(0)} vs ${(single.transactions / seconds).toFixed(0)} transactions/s (one fsync each), ${seconds} s windows on ${ROOT}`,
      ),
    );
  }
  const full = await commitsPerSecond('FULL', quick ? 200 : 1_000);
  const off = await commitsPerSecond('OFF', quick ? 200 : 1_000);
  log(`one-key commits/s: synchronous=FULL ${full.toFixed(0)}, OFF ${off.toFixed(0)}`);
  rows.push(
    row(
      'group commit: what one transaction costs here',
      'one-key commits/s, synchronous=FULL',
      full,
      'commits/s',
      'same with synchronous=OFF (no fsync)',
      off,
      'a lone small transaction is mostly its fsync; group commit shares it, and a group writes all its keys in one multi-row upsert and one delete (src/persistence/sqlite-connection.ts), so a group costs little more than a lone commit',
    ),
  );
  const n = quick ? 100 : 400;
  const alone = await journalStep(n, 0);
  const busy = await journalStep(n, 8);
  log(`journal step p50/p99: alone ${median(alone).toFixed(2)}/${percentile(alone, 99).toFixed(2)} ms, beside 8 producers ${median(busy).toFixed(2)}/${percentile(busy, 99).toFixed(2)} ms`);
  const J = 'group commit: journal step (unlock → intent committed with fsync → pulse)';
  rows.push(
    row(J, 'p99, alone', percentile(alone, 99), 'ms', 'p50, alone', median(alone), `target < 5 ms; ${n} unlocks of a real compartment actor, SQLite WAL + synchronous=FULL, the commit path of the supervisor`),
    row(J, 'p99, beside 8 busy producers', percentile(busy, 99), 'ms', 'p50, beside 8 busy producers', median(busy), 'the intent joins the producers\' group commits: it waits for the transaction in flight, then shares the next fsync'),
  );
  return rows;
}
