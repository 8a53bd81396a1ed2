import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { answer, type Request } from '../../actors/runtime/ask.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Message } from '../../actors/runtime/types.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { startRedis, type RedisServer } from '../persistence/redis-server.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { rejectionCode } from '../domain/assert-code.js';

// A quarantine is kept with the actor's record, also for an actor whose large tables are stored
// row by row (the registry's case): the quarantine's own write is the head alone, and every later
// commit of the actor writes the head again with it. Shown on a real SQLite file and a real
// redis-server, each reopened between the starts.

type Event = ({ type: 'deposit'; account: string; n: number } & Request) | { type: 'import'; account: string; balance: number | string };
interface Ctx {
  seq: number;
  balances: Record<string, number | string>;
}

const ledger = defineActor<Ctx, Event & Message, never>({
  kind: 'ledger',
  init: () => ({ seq: 0, balances: {} }),
  tables: ['balances'],
  partitionOf: (_ctx, m) => m.account,
  partitionCode: 'PICKUP_FAILED',
  on: {
    deposit: (ctx, e, enq) => {
      const current = ctx.balances[e.account] ?? 0;
      if (typeof current !== 'number') throw new TypeError('a damaged balance');
      enq.emit.send(answer(e, current + e.n));
      return { seq: ctx.seq + 1, balances: { ...ctx.balances, [e.account]: current + e.n } };
    },
    // An import that takes balances as they come: text too (the damaged row).
    import: (ctx, e) => ({ ...ctx, balances: { ...ctx.balances, [e.account]: e.balance } }),
  },
});


let redis: RedisServer | null = null;
const dirs: string[] = [];
const stores = [
  {
    name: 'sqlite',
    needs: [],
    url: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-partitions-'));
      dirs.push(dir);
      return `sqlite://${join(dir, 'box.sqlite')}`;
    },
  },
  {
    name: 'redis',
    needs: [REDIS],
    url: async () => {
      redis ??= await startRedis();
      return `${redis.url}/3`;
    },
  },
];

for (const store of stores) {
  const test = store.needs.length ? suiteNeeding(`partition quarantine on ${store.name}`, store.needs) : suite(`partition quarantine on ${store.name}`);
  test.after(async () => {
    await redis?.stop();
    redis = null;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  test('the quarantine survives restarts and the commits after it, rows and head alike', async () => {
    const url = await store.url();
    const clock = new SimulatedClock(1_000);
    const open = async () => {
      const persistence = await openPersistence(url, { namespace: 'partitions' });
      const sup = new Supervisor({ clock, persistence, behaviors: [ledger], intensity: { max: 0, withinMs: 30_000 } });
      await sup.restore();
      return { sup, persistence };
    };

    let s = await open();
    await s.sup.spawn('ledger/1', 'ledger');
    assert.is(await s.sup.ask('ledger/1', { type: 'deposit', account: 'good', n: 1 }), 1);
    s.sup.post('ledger/1', { type: 'import', account: 'bad', balance: '12,50' });
    await s.sup.idle();
    await s.sup.close();
    await s.persistence.close();

    s = await open();
    assert.is(await rejectionCode(s.sup.ask('ledger/1', { type: 'deposit', account: 'bad', n: 1 })), 'PICKUP_FAILED');
    // Commits after the quarantine write the head again: it must keep the quarantine.
    assert.is(await s.sup.ask('ledger/1', { type: 'deposit', account: 'good', n: 1 }), 2);
    await s.sup.close();
    await s.persistence.close();

    s = await open();
    assert.equal(s.sup.quarantined().map((q) => [q.actor, q.partition, q.code]), [['ledger/1', 'bad', 'ACTOR_CRASHED']]);
    assert.is(await rejectionCode(s.sup.ask('ledger/1', { type: 'deposit', account: 'bad', n: 1 })), 'PICKUP_FAILED');
    assert.is(await s.sup.ask('ledger/1', { type: 'deposit', account: 'good', n: 1 }), 3);
    assert.is(s.sup.view<Ctx>('ledger/1')!.ctx.seq, 3, 'the head moved on with every commit');
    assert.is(await s.sup.lift('ledger/1', 'bad'), true);
    await s.sup.close();
    await s.persistence.close();

    s = await open();
    assert.equal(s.sup.quarantined(), [], 'the lift was committed');
    await s.sup.close();
    await s.persistence.close();
  });

  test.run();
}
