/**
 * A mailbox with a backlog is handled in batches: several handlers run one after the other, their
 * outcome is committed as one transaction, then their effects run in order. These tests pin that
 * every message still gets what handling it alone would give it.
 */
import { withCommit } from '../support/slow-store.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor, type DeadLetter } from '../../actors/runtime/supervisor.js';
import type { BoxEvent, Message } from '../../actors/runtime/types.js';
import { openPersistence, type Persistence } from '../../src/persistence/keyv-persistence.js';

type TallyEvent =
  | { type: 'add'; n: number }
  | { type: 'boom' }
  | { type: 'probe' }
  | { type: 'probed'; length: number }
  | { type: 'quit' }
  | { type: 'later'; inMs: number }
  | { type: 'ring' }
  | { type: 'slow'; ms: number }
  | { type: 'restarted' };

interface TallyCtx {
  seen: number[];
  restarts: number;
}

const tally = defineActor<TallyCtx, TallyEvent & Message, { kind: 'probe' }>({
  kind: 'tally',
  init: () => ({ seen: [], restarts: 0 }),
  on: {
    add: (ctx, e, enq) => {
      enq.emit.publish({ event: { type: 'added', n: e.n } });
      return { ...ctx, seen: [...ctx.seen, e.n] };
    },
    boom: () => {
      throw new Error('handler bug');
    },
    probe: (_ctx, _e, enq) => {
      enq.emit.io({ op: { kind: 'probe' } });
    },
    probed: (ctx, e) => ({ ...ctx, seen: [...ctx.seen, -e.length] }),
    quit: (_ctx, _e, enq) => {
      enq.emit.stop({});
    },
    restarted: (ctx) => ({ ...ctx, restarts: ctx.restarts + 1 }),
    later: (_ctx, e, enq) => {
      enq.emit.schedule({ key: 'ring', at: e.now + e.inMs, message: { type: 'ring' } });
    },
    // a handler that takes `ms` of real time
    slow: (ctx, e) => {
      const until = performance.now() + e.ms;
      while (performance.now() < until);
      return { ...ctx, seen: [...ctx.seen, e.ms] };
    },
    // changes nothing: only the timer's removal is there to commit
    ring: (_ctx, _e, enq) => {
      enq.emit.publish({ event: { type: 'rang' } });
    },
  },
  // reports how many numbers the actor had seen in the state the probe's own handler left
  async io(_op, ctx) {
    return { type: 'probed', length: ctx.seen.length };
  },
});

/**
 * The real in-memory store, watched: every commit is counted, and once it resolves the committed
 * state of each actor is noted, so a test can ask what was committed when an effect ran.
 * `failing` makes commits reject as a store that is down does.
 */
function watched(inner: Persistence) {
  const committed = new Map<string, TallyCtx>();
  const writesOf = new Map<string, number>();
  const state: { failing: boolean; commits: number; hold: Promise<void> | null } = { failing: false, commits: 0, hold: null };
  const persistence = withCommit(inner, async (batch) => {
    if (state.hold) await state.hold;
    if (state.failing) throw Object.assign(new Error('disk gone'), { code: 'STORAGE_UNAVAILABLE' });
    await inner.commit(batch);
    state.commits++;
    for (const w of batch.actors ?? []) {
      if ('deleted' in w) continue;
      committed.set(w.address, w.record.ctx as TallyCtx);
      writesOf.set(w.address, (writesOf.get(w.address) ?? 0) + 1);
    }
  });
  return { persistence, committed, writesOf, state };
}

/** `budgetMs`: the batch time budget; unlimited unless a test is about it, so a busy machine does not cut batches. */
async function setup(budgetMs = Number.POSITIVE_INFINITY) {
  const clock = new SimulatedClock();
  const inner = await openPersistence('memory:');
  const w = watched(inner);
  const sup = new Supervisor({ clock, persistence: w.persistence, behaviors: [tally], batchBudgetMs: budgetMs });
  await sup.spawn('tally/a', 'tally');
  await sup.idle();
  return { clock, inner, sup, ...w };
}

test('a backlog of 300 messages is committed in a few writes, and every message is in the committed state', async () => {
  const { sup, inner, writesOf } = await setup();
  const before = writesOf.get('tally/a') ?? 0;
  for (let i = 1; i <= 300; i++) sup.send('tally/a', { type: 'add', n: i });
  await sup.idle();
  const writes = (writesOf.get('tally/a') ?? 0) - before;
  assert.ok(writes >= 3 && writes <= 5, `300 messages took ${writes} writes (one for the first, then batches of at most 128)`);
  // A second start reads back what was committed: all 300, in order.
  const second = new Supervisor({ clock: new SimulatedClock(), persistence: inner, behaviors: [tally] });
  await second.restore();
  assert.equal(second.view<TallyCtx>('tally/a')!.ctx.seen, Array.from({ length: 300 }, (_, i) => i + 1));
});

test('a batch of slow handlers is cut after about a millisecond, so the first effects do not wait for the whole backlog (real time)', async () => {
  const { sup, writesOf } = await setup(1); // the box's default budget
  const before = writesOf.get('tally/a') ?? 0;
  for (let i = 0; i < 20; i++) sup.send('tally/a', { type: 'slow', ms: 0.5 });
  await sup.idle();
  const writes = (writesOf.get('tally/a') ?? 0) - before;
  // 0.5 ms handlers, a 1 ms budget: at most 3 per batch; all 20 in two writes without the budget
  assert.ok(writes >= 7, `20 slow messages took ${writes} writes`);
  assert.is(sup.view<TallyCtx>('tally/a')!.ctx.seen.length, 20);
});

test('without group commit every message is a transaction of its own (the baseline of the durability benchmarks)', async () => {
  const inner = await openPersistence('memory:');
  const { persistence, writesOf } = watched(inner);
  const sup = new Supervisor({ clock: new SimulatedClock(), persistence, behaviors: [tally], groupCommit: false });
  await sup.spawn('tally/a', 'tally');
  await sup.idle();
  const before = writesOf.get('tally/a') ?? 0;
  for (let i = 1; i <= 50; i++) sup.send('tally/a', { type: 'add', n: i });
  await sup.idle();
  assert.is((writesOf.get('tally/a') ?? 0) - before, 50);
  assert.is(sup.view<TallyCtx>('tally/a')!.ctx.seen.length, 50);
});

test("each message's effects run only once a state that includes it is committed, in the order sent", async () => {
  const { sup, committed } = await setup();
  const published: number[] = [];
  const uncommitted: number[] = [];
  sup.events.listen((e: BoxEvent) => {
    if (e.type !== 'added') return;
    const n = e.n as number;
    published.push(n);
    if (!committed.get('tally/a')?.seen.includes(n)) uncommitted.push(n);
  });
  for (let i = 1; i <= 200; i++) sup.send('tally/a', { type: 'add', n: i });
  await sup.idle();
  assert.equal(published, Array.from({ length: 200 }, (_, i) => i + 1));
  assert.equal(uncommitted, [], 'no effect ran before its state was committed');
});

test('a handler that throws inside a batch: the messages before it are committed with their effects, the actor restarts from the state they left', async () => {
  const { sup, committed } = await setup();
  const events: string[] = [];
  sup.events.listen((e) => events.push(e.type === 'added' ? `added ${e.n as number}` : e.type));
  sup.send('tally/a', { type: 'add', n: 1 });
  sup.send('tally/a', { type: 'add', n: 2 });
  sup.send('tally/a', { type: 'add', n: 3 });
  sup.send('tally/a', { type: 'boom' });
  sup.send('tally/a', { type: 'add', n: 4 });
  await sup.idle();
  assert.equal(events, ['added 1', 'added 2', 'added 3', 'actor.restarted', 'added 4']);
  const view = sup.view<TallyCtx>('tally/a')!;
  assert.equal(view.ctx.seen, [1, 2, 3, 4], 'nothing handled before the crash was lost');
  assert.is(view.ctx.restarts, 1);
  assert.equal(committed.get('tally/a')!.seen, [1, 2, 3, 4]);
});

test('an I/O operation sees the state its own handler left, not a later one of its batch', async () => {
  const { sup } = await setup();
  sup.send('tally/a', { type: 'add', n: 1 });
  sup.send('tally/a', { type: 'add', n: 2 });
  sup.send('tally/a', { type: 'probe' });
  sup.send('tally/a', { type: 'add', n: 3 });
  sup.send('tally/a', { type: 'add', n: 4 });
  await sup.idle();
  assert.equal(sup.view<TallyCtx>('tally/a')!.ctx.seen, [1, 2, 3, 4, -2]);
});

test('mail behind a stop in the same batch is a dead letter, and the box goes idle', async () => {
  const { sup } = await setup();
  const dead: string[] = [];
  sup.deadLetters.listen((d: DeadLetter) => dead.push(`${d.envelope.message.type}:${d.reason}`));
  sup.send('tally/a', { type: 'add', n: 1 });
  sup.send('tally/a', { type: 'quit' });
  sup.send('tally/a', { type: 'add', n: 2 });
  await sup.idle();
  assert.is(sup.has('tally/a'), false);
  assert.equal(dead, ['add:actor-stopped']);
});

test('when the commit of a batch fails every message of it is refused, and nothing of it is kept', async () => {
  const { sup, clock, state, committed } = await setup();
  const dead: string[] = [];
  sup.deadLetters.listen((d: DeadLetter) => dead.push(`${d.envelope.message.type}:${d.reason}`));
  state.failing = true;
  for (let i = 1; i <= 5; i++) sup.send('tally/a', { type: 'add', n: i });
  await sup.idle();
  assert.equal(dead, Array.from({ length: 5 }, () => 'add:storage'));
  assert.is(sup.storageHealthy(), false);
  assert.equal(sup.view<TallyCtx>('tally/a')!.ctx.seen, [], 'back to the committed state');
  state.failing = false;
  await clock.advance(1_000, () => sup.idle());
  assert.is(sup.storageHealthy(), true);
  sup.send('tally/a', { type: 'add', n: 6 });
  await sup.idle();
  assert.equal(sup.view<TallyCtx>('tally/a')!.ctx.seen, [6]);
  assert.equal(committed.get('tally/a')!.seen, [6]);
});

test('a timer that fires while its actor commits is removed from the store by the commit after', async () => {
  const { sup, clock, inner, state } = await setup();
  sup.send('tally/a', { type: 'later', inMs: 1_000 });
  await sup.idle();
  let release!: () => void;
  state.hold = new Promise<void>((resolve) => (release = resolve));
  sup.send('tally/a', { type: 'add', n: 1 }); // its commit waits for `release`
  await clock.advance(1_000); // the timer fires meanwhile
  state.hold = null;
  release();
  await sup.idle();
  const record = (await inner.loadActors()).get('tally/a')!;
  assert.equal(record.timers, [], 'a fired timer is not left in the store to fire again after a restart');
  assert.equal((record.ctx as TallyCtx).seen, [1]);
});

test.run();
