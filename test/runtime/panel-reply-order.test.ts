/**
 * While a panel waits for an actor that is busy with bulk work (the registry with an integration's
 * registrations), the replies of that bulk batch reach their callers after the panel's answer, not
 * before it: their callers' code (the integration's next request) would otherwise run on this
 * thread ahead of the panel's answer (actors/runtime/supervisor.ts, `repliesLater`). Nothing else
 * changes: every ask is answered, with its own value, and an actor's messages keep their order.
 * The store holds every transaction until the test lets it go, so the order is fixed, not timed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Message } from '../../actors/runtime/types.js';
import { answer, type Request } from '../../actors/runtime/ask.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { gatedStore, settle } from '../support/slow-store.js';
import { rejectionCode } from '../domain/assert-code.js';

/**
 * A counter that answers a bulk caller's `bump` with the new count, and a panel's `mark` (as the
 * registry claims a pickup for a session) with a word back to the panel, once committed.
 */
type CounterEvent = ({ type: 'bump'; relayed?: boolean; crash?: boolean } & Request) | { type: 'mark' };
const counter = defineActor<{ n: number; marks: number }, CounterEvent & Message, never>({
  kind: 'counter',
  init: () => ({ n: 0, marks: 0 }),
  on: {
    bump: (ctx, e, enq) => {
      if (e.crash) throw new Error('a bump its handler crashes on');
      // `relayed`: a note goes through a relay first (an actor that only passes messages on, whose
      // effects run at once, without waiting for its commit).
      if (e.relayed) enq.emit.send({ to: 'relay/1', message: { type: 'pass' } } as never);
      enq.emit.send(answer(e, ctx.n + 1));
      return { ...ctx, n: ctx.n + 1 };
    },
    mark: (ctx, _e, enq) => {
      enq.emit.send({ to: 'panel/1', message: { type: 'marked', marks: ctx.marks + 1 } } as never);
      return { ...ctx, marks: ctx.marks + 1 };
    },
  },
});

/** Keeps a transaction of its own busy, so that the next commits wait in the queues. */
const busy = defineActor<{ hops: number }, { type: 'hop' } & Message, never>({ kind: 'busy', init: () => ({ hops: 0 }), on: { hop: (ctx) => ({ hops: ctx.hops + 1 }) } });

/** Passes each note on to busy/1 and changes nothing of its own: written behind, its effects run at once. */
const relay = defineActor<Record<string, never>, { type: 'pass' } & Message, never>({
  kind: 'relay',
  init: () => ({}),
  on: { pass: (_ctx, _e, enq) => void enq.emit.send({ to: 'busy/1', message: { type: 'hop' } } as never) },
});

/**
 * A panel, as a session is (interactive, transient): a press asks the counter to mark, and is
 * answered once the counter's word is back (as a PIN once the registry claimed the pickup).
 */
type PanelEvent = ({ type: 'press' } & Request) | { type: 'marked'; marks: number };
const panel = defineActor<{ waiting: Request | null }, PanelEvent & Message, never>({
  kind: 'panel',
  interactive: true,
  transient: true,
  init: () => ({ waiting: null }),
  on: {
    press: (_ctx, e, enq) => {
      enq.emit.send({ to: 'counter/1', message: { type: 'mark' } } as never);
      return { waiting: { requestId: e.requestId, replyTo: e.replyTo } };
    },
    marked: (ctx, e, enq) => {
      if (ctx.waiting) enq.emit.send(answer(ctx.waiting, e.marks));
      return { waiting: null };
    },
  },
});

async function box() {
  const gate = gatedStore(await openPersistence('memory:'));
  const sup = new Supervisor({ clock: new SimulatedClock(0), persistence: gate.persistence, behaviors: [counter, busy, panel, relay] });
  for (const [address, kind] of [['counter/1', 'counter'], ['busy/1', 'busy'], ['panel/1', 'panel'], ['relay/1', 'relay']] as const) await sup.spawn(address, kind);
  await sup.idle();
  /** Every transaction from now on waits until the test lets it go. */
  const hold = () => (gate.state.open = false);
  const heldCount = async (n: number) => {
    for (let i = 0; gate.held.length < n && i < 100; i++) await settle();
    assert.is(gate.held.length, n, `${n} transaction(s) held`);
  };
  return { sup, gate, hold, heldCount };
}

/** Asks three bumps and one panel press; `order` lists who heard their answer, in order. */
function asked(sup: Supervisor, relayed = false) {
  const order: string[] = [];
  const bumps = [1, 2, 3].map((i) => sup.ask<number>('counter/1', { type: 'bump', ...(relayed ? { relayed } : {}) }).then((n) => (order.push(`bump${i}`), n)));
  return { order, bumps };
}

/** Three bumps asked while busy/1's transaction is held: handled as one bulk batch, whose commit waits behind busy/1's. */
async function bumpsBehindBusy() {
  const b = await box();
  b.hold();
  b.sup.send('busy/1', { type: 'hop' });
  await b.heldCount(1);
  return { ...b, ...asked(b.sup) };
}

test("a panel's batch joined to a bulk commit: the panel hears its answer before the bulk callers hear theirs", async () => {
  const { sup, gate, order, bumps } = await bumpsBehindBusy();
  await settle();
  // The panel's press makes the counter commit a mark: it joins the bumps' queued commit.
  const pressed = sup.ask<number>('panel/1', { type: 'press' }).then((n) => (order.push('panel'), n));
  await settle();
  gate.openAll();
  assert.equal(await Promise.all(bumps), [1, 2, 3], 'every bulk caller gets its own answer');
  assert.is(await pressed, 1);
  assert.equal(order, ['panel', 'bump1', 'bump2', 'bump3'], 'the panel first, then the bulk callers in their order');
  assert.equal(sup.view<{ n: number; marks: number }>('counter/1')!.ctx, { n: 3, marks: 1 });
  await sup.close();
});

/** The panel presses while the bumps wait on the gate; the gate opens: every caller gets its own answer. */
async function pressThenOpen(sup: Supervisor, gate: { openAll(): void }, order: string[], bumps: Promise<number>[]) {
  const pressed = sup.ask<number>('panel/1', { type: 'press' }).then((n) => (order.push('panel'), n));
  await settle();
  gate.openAll();
  assert.equal(await Promise.all(bumps), [1, 2, 3], 'every bulk caller gets its own answer');
  assert.is(await pressed, 1);
}

test("a panel's message waiting while a bulk commit is written: the bulk callers hear their answers after the panel", async () => {
  const { sup, gate, hold, heldCount } = await box();
  hold();
  // The bumps' commit is cut and held: in flight, nothing can join it.
  const { order, bumps } = asked(sup);
  await heldCount(1);
  await pressThenOpen(sup, gate, order, bumps);
  assert.equal(order, ['panel', 'bump1', 'bump2', 'bump3']);
  await sup.close();
});

test("the bulk batch's first effect hands a note to an idle relay, which passes it on at once: its callers still hear their answers after the panel", async () => {
  const { sup, gate, hold, heldCount } = await box();
  hold();
  const { order, bumps } = asked(sup, true);
  await heldCount(1);
  await pressThenOpen(sup, gate, order, bumps);
  assert.equal(order, ['panel', 'bump1', 'bump2', 'bump3'], "the relay's batch, run inside the bulk batch's effects, does not end the hold");
  await sup.idle();
  assert.is(sup.view<{ hops: number }>('busy/1')!.ctx.hops, 3, 'every note was passed on');
  await sup.close();
});

test("a bulk ask refused while its batch's answers are held (its handler crashed) is heard after them, in its place", async () => {
  const { sup, gate, order, bumps } = await bumpsBehindBusy();
  const crashed = rejectionCode(sup.ask<number>('counter/1', { type: 'bump', crash: true })).then((code) => (order.push(`bump4 ${code}`), code));
  await settle();
  await pressThenOpen(sup, gate, order, bumps);
  assert.is(await crashed, 'ACTOR_CRASHED');
  assert.equal(order, ['panel', 'bump1', 'bump2', 'bump3', 'bump4 ACTOR_CRASHED'], 'the refusal keeps its place behind the answers before it');
  await sup.close();
});

test('a bulk caller that hears its held answer after the supervisor closed, and asks again, is refused at once', async () => {
  const { sup, gate, hold, heldCount } = await box();
  hold();
  const { bumps } = asked(sup);
  // (The bumps still queued behind the panel's mark are refused by the close.)
  for (const b of bumps) b.catch(() => {});
  await heldCount(1);
  const pressed = sup.ask<number>('panel/1', { type: 'press' });
  await settle();
  gate.openAll();
  // Its next request, made once it hears the answer (in the turn after the panel's), meets a closed supervisor.
  const next = rejectionCode(bumps[0]!.then(() => sup.ask<number>('counter/1', { type: 'bump' })));
  await pressed;
  await sup.close();
  const outcome = await Promise.race([next, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 100))]);
  assert.is(outcome, 'ACTOR_NOT_FOUND');
});

test('no panel waiting: bulk callers hear their answers as before, in order', async () => {
  const { sup } = await box();
  const { order, bumps } = asked(sup);
  assert.equal(await Promise.all(bumps), [1, 2, 3]);
  assert.equal(order, ['bump1', 'bump2', 'bump3']);
  await sup.close();
});

test('an ask made for a person at a keypad that is no actor (`urgent`, the room door\'s) passes the bulk asks queued before it', async () => {
  for (const urgent of [true, false]) {
    const { sup, gate, hold, heldCount } = await box();
    hold();
    // The first bumps' commit is held; three more wait in the mailbox behind it.
    const { order, bumps } = asked(sup);
    await heldCount(1);
    const queued = [4, 5, 6].map((i) => sup.ask<number>('counter/1', { type: 'bump' }).then((n) => (order.push(`bump${i}`), n)));
    const keypad = sup.ask<number>('counter/1', { type: 'bump' }, { from: 'api/kiosk/room', urgent }).then((n) => (order.push('keypad'), n));
    await settle();
    gate.openAll();
    const counts = await Promise.all([...bumps, ...queued]);
    const mine = await keypad;
    if (urgent) {
      assert.ok(mine < Math.min(...counts.slice(3)), `the keypad's bump (${mine}) is handled before those queued ahead of it (${counts.slice(3).join(', ')})`);
      assert.ok(order.indexOf('keypad') < order.indexOf('bump4'), 'and heard before them');
    } else {
      assert.is(mine, 7, 'without it, it waits its turn');
      assert.is(order.at(-1), 'keypad');
    }
    await sup.close();
  }
});

test.run();
