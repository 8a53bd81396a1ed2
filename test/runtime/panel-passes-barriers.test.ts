/**
 * A panel's message passes bulk mail of other senders (actors/runtime/supervisor.ts,
 * `passingPoint`), but never what the supervisor tells an actor about itself: `recovered` after
 * the mail redelivered at a start, `restarted` after a crash. The actor reconciles first (a
 * pickup's actor voids the claims of sessions that did not survive on `recovered`: a new session's
 * claim made before it would be voided). A note sent aside from a panel's step keeps its place
 * among the panel's messages, so its sender's next message (auth's PIN match after a session's
 * end) is not held behind bulk mail. A panel's message bounced by an actor failed for good comes
 * back as urgent as it went. A panel's message that passes one whose handler threw leaves the
 * crash to that message, once. The store holds every transaction until the test lets
 * it go, so the order is fixed, not a matter of timing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Envelope, Message } from '../../actors/runtime/types.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { gatedStore, settle } from '../support/slow-store.js';

type LedgerEvent =
  | { type: 'note'; tag: string }
  | { type: 'echo'; tag: string }
  | { type: 'explode' }
  | { type: 'boom' }
  | { type: 'poke' }
  | { type: 'delivery.failed'; to: string; messageType: string }
  | { type: 'recovered' }
  | { type: 'restarted' };

/** Keeps, in the order it handled them, its notes and what the supervisor told it. */
const ledger = defineActor<{ order: string[] }, LedgerEvent & Message, { kind: 'none' }>({
  kind: 'ledger',
  init: () => ({ order: [] }),
  on: {
    note: (ctx, e) => ({ order: [...ctx.order, e.tag] }),
    // tells itself: a note that follows from this message
    echo: (_ctx, e, enq) => void enq.emit.send({ to: 'ledger/1', message: { type: 'note', tag: e.tag } }),
    // I/O without an io(): running the effect throws, after the commit (a crash outside the handler)
    explode: (_ctx, _e, enq) => void enq.emit.io({ op: { kind: 'none' } }),
    // a bug in the handler: it throws
    boom: () => {
      throw new Error('handler bug');
    },
    // a message to an actor that failed for good: it comes back as delivery.failed
    poke: (_ctx, _e, enq) => void enq.emit.send({ to: 'broken/1', message: { type: 'poke' } }),
    'delivery.failed': (ctx, e) => ({ order: [...ctx.order, `bounced:${e.messageType}`] }),
    recovered: (ctx) => ({ order: [...ctx.order, 'recovered'] }),
    restarted: (ctx) => ({ order: [...ctx.order, 'restarted'] }),
  },
});

/**
 * Not a panel, but told by one (as the auth actor is): passes notes on to the ledger, some aside
 * (a session's end, a wrong PIN counted: nobody waits for them), in the order it is told.
 */
const desk = defineActor<Record<string, never>, { type: 'tell'; tag: string; aside?: boolean } & Message, never>({
  kind: 'desk',
  init: () => ({}),
  on: {
    tell: (_ctx, e, enq) =>
      void (e.aside ? enq.emit.send({ to: 'ledger/1', message: { type: 'note', tag: e.tag }, aside: true }) : enq.emit.send({ to: 'ledger/1', message: { type: 'note', tag: e.tag } })),
  },
});

/** Fails for good at its first message (see the intensity below). */
const broken = defineActor<Record<string, never>, { type: 'poke' } & Message, never>({
  kind: 'broken',
  init: () => ({}),
  on: {
    poke: () => {
      throw new Error('broken');
    },
  },
});

/** A panel (a session): what comes from it serves a person waiting. */
const panel = defineActor<Record<string, never>, { type: 'noop' } & Message, never>({
  kind: 'panel',
  interactive: true,
  transient: true,
  init: () => ({}),
  on: { noop: () => undefined },
});


const note = (id: string, tag: string): Envelope => ({ id, from: 'external', to: 'ledger/1', at: 0, causation: null, message: { type: 'note', tag }, durable: true });

test("a panel's message at the start waits for the actor's `recovered`, after the mail redelivered before it", async () => {
  const inner = await openPersistence('memory:');
  const first = new Supervisor({ clock: new SimulatedClock(0), persistence: inner, behaviors: [ledger, panel] });
  await first.spawn('ledger/1', 'ledger');
  await first.idle();
  await first.close();
  // Committed by their sender before the stop, not yet handled by the ledger: delivered again.
  await inner.commit({ sent: [note('old.1', 'r1'), note('old.2', 'r2'), note('old.3', 'r3')] });

  const { persistence, state, openAll, held } = gatedStore(inner);
  const sup = new Supervisor({ clock: new SimulatedClock(0), persistence, behaviors: [ledger, panel] });
  await sup.restore(async () => {
    await sup.spawn('panel/1', 'panel');
    state.open = false; // r1's commit is held: r2, r3 and `recovered` wait in the mailbox
  });
  await settle();
  assert.ok(held.length > 0, "the ledger's first batch waits for its commit");
  // A citizen at the panel right after the start.
  sup.send('ledger/1', { type: 'note', tag: 'panel' } as never, 'panel/1');
  openAll();
  await sup.idle();
  assert.equal(sup.view<{ order: string[] }>('ledger/1')!.ctx.order, ['r1', 'r2', 'r3', 'recovered', 'panel']);
  await sup.close();
});

/** ledger/1 and panel/1 on a store that holds every transaction from now on; the ledger has handled note `tag`, whose commit is held. */
async function ledgerWriting(tag: string) {
  const { persistence, state, held, openAll } = gatedStore(await openPersistence('memory:'));
  const sup = new Supervisor({ clock: new SimulatedClock(0), persistence, behaviors: [ledger, panel] });
  await sup.spawn('ledger/1', 'ledger');
  await sup.spawn('panel/1', 'panel');
  await sup.idle();
  state.open = false;
  sup.send('ledger/1', { type: 'note', tag } as never);
  await settle();
  return { sup, held, openAll };
}

test("a panel's message does not pass the `restarted` of an actor that just crashed", async () => {
  const { sup, openAll } = await ledgerWriting('b0');
  // Both from the panel, handled in one batch: the first one's effect crashes the ledger after
  // the commit, the second's note (serving the panel, like the message it follows from) comes after.
  sup.send('ledger/1', { type: 'explode' } as never, 'panel/1');
  sup.send('ledger/1', { type: 'echo', tag: 'echo' } as never, 'panel/1');
  openAll();
  await sup.idle();
  assert.equal(sup.view<{ order: string[] }>('ledger/1')!.ctx.order, ['b0', 'restarted', 'echo']);
  await sup.close();
});

test("a panel's message that passes a message whose handler threw is handled once; the crash falls on that message alone, once", async () => {
  const { sup, held, openAll } = await ledgerWriting('a0');
  sup.send('ledger/1', { type: 'note', tag: 'b0' } as never);
  sup.send('ledger/1', { type: 'boom' } as never);
  held.shift()!(); // a0 written: the next batch takes b0, and ends before boom, whose handler throws
  await settle();
  assert.equal(held.length, 1, "b0's commit is held");
  // A panel's note now passes boom, which waits in the mailbox for b0's commit to be done.
  sup.send('ledger/1', { type: 'note', tag: 'p1' } as never, 'panel/1');
  openAll();
  await sup.idle();
  assert.equal(sup.view<{ order: string[] }>('ledger/1')!.ctx.order, ['a0', 'b0', 'restarted', 'p1']);
  await sup.close();
});

test("a panel's message sent to an actor failed for good comes back to its sender ahead of bulk mail, as it went", async () => {
  const inner = await openPersistence('memory:');
  const { persistence, state, openAll } = gatedStore(inner);
  const sup = new Supervisor({ clock: new SimulatedClock(0), persistence, behaviors: [ledger, panel, broken], intensity: { max: 0, withinMs: 30_000 } });
  for (const [address, kind] of [['ledger/1', 'ledger'], ['panel/1', 'panel'], ['broken/1', 'broken']] as const) await sup.spawn(address, kind);
  sup.send('broken/1', { type: 'poke' } as never);
  await sup.idle();
  assert.is(sup.view('broken/1')!.status, 'failed');
  state.open = false;
  sup.send('ledger/1', { type: 'note', tag: 'b0' } as never); // handled; its commit is held
  await settle();
  for (const tag of ['b1', 'b2', 'b3']) sup.send('ledger/1', { type: 'note', tag } as never);
  // A citizen's step: the ledger tells the failed actor (as a pickup's actor unlocks its compartment).
  sup.send('ledger/1', { type: 'poke' } as never, 'panel/1');
  openAll();
  await sup.idle();
  // The bounce is what the panel waits for (the pickup tells the session the door cannot open).
  assert.equal(sup.view<{ order: string[] }>('ledger/1')!.ctx.order, ['b0', 'bounced:poke', 'b1', 'b2', 'b3']);
  await sup.close();
});

test("a note aside from a panel's step does not hold up the panel's next message behind bulk mail", async () => {
  const inner = await openPersistence('memory:');
  const { persistence, state, openAll } = gatedStore(inner);
  const sup = new Supervisor({ clock: new SimulatedClock(0), persistence, behaviors: [ledger, panel, desk] });
  for (const [address, kind] of [['ledger/1', 'ledger'], ['panel/1', 'panel'], ['panel/2', 'panel'], ['desk/1', 'desk']] as const) await sup.spawn(address, kind);
  await sup.idle();
  state.open = false;
  sup.send('ledger/1', { type: 'note', tag: 'b0' } as never); // handled; its commit is held
  await settle();
  for (const tag of ['b1', 'b2', 'b3']) sup.send('ledger/1', { type: 'note', tag } as never);
  // One session ends (its end goes on aside, as auth passes it to the pickup), the next one's
  // PIN matches: the same sender, so the match keeps its place after the end.
  sup.send('desk/1', { type: 'tell', tag: 'ended', aside: true } as never, 'panel/1');
  await settle();
  sup.send('desk/1', { type: 'tell', tag: 'matched' } as never, 'panel/2');
  openAll();
  await sup.idle();
  // Neither waits for the bulk mail; the end still comes before the match.
  assert.equal(sup.view<{ order: string[] }>('ledger/1')!.ctx.order, ['b0', 'ended', 'matched', 'b1', 'b2', 'b3']);
  await sup.close();
});

test.run();
