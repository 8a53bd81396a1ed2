/**
 * A message a person at a panel waits for does not queue behind bulk work in an actor's mailbox
 * (actors/runtime/supervisor.ts, `passingPoint` and `promote`): it passes the bulk messages of
 * other senders, never one of its own sender's, and a commit of bulk work its recipient is
 * waiting for goes with the urgent transaction, and the panel's batch, handled on the state that
 * commit writes, joins it (`joinCommit`). A note sent aside (nobody waits for it) keeps its
 * place among the panel's messages (see panel-passes-barriers) but moves no commit ahead. The store here holds every transaction until the test lets it go, so the order of
 * events is fixed, not a matter of timing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Message } from '../../actors/runtime/types.js';
import type { Request } from '../../actors/runtime/ask.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { failingGate, settle } from '../support/slow-store.js';
import { pressPanel } from '../support/press-panel.js';

type LogEvent = { type: 'note'; tag: string; remind?: boolean };

/** Bulk work's recipient: keeps the tags of its notes in the order it handled them; `remind` also sets a timer. */
const log = defineActor<{ order: string[] }, LogEvent & Message, never>({
  kind: 'log',
  init: () => ({ order: [] }),
  on: {
    note: (ctx, e, enq) => {
      if (e.remind) enq.emit.schedule({ key: `remind:${e.tag}`, at: 60_000, message: { type: 'note', tag: `${e.tag}-reminded` } });
      return { order: [...ctx.order, e.tag] };
    },
  },
});

type RelayEvent = { type: 'spray'; tags: string[] } | { type: 'follow'; tag: string } | { type: 'hop' };

/** Not a panel: passes notes on to the log, in bulk or because a panel asked it to; `hop` is a change of its own. */
const relay = defineActor<{ hops: number }, RelayEvent & Message, never>({
  kind: 'relay',
  init: () => ({ hops: 0 }),
  on: {
    spray: (_ctx, e, enq) => {
      for (const tag of e.tags) enq.emit.send({ to: 'log/1', message: { type: 'note', tag } });
    },
    follow: (_ctx, e, enq) => void enq.emit.send({ to: 'log/1', message: { type: 'note', tag: e.tag } }),
    hop: (ctx) => ({ hops: ctx.hops + 1 }),
  },
});

type PanelEvent = ({ type: 'press'; tag: string; via?: string; aside?: boolean; remind?: boolean }) & Request;

/** A panel whose state dies with the process (a session): it tells on at once and answers. */
const panel = pressPanel<PanelEvent>((e, enq) => {
  if (e.via) enq.emit.send({ to: e.via, message: { type: 'follow', tag: e.tag } });
  else if (e.aside) enq.emit.send({ to: 'log/1', message: { type: 'note', tag: e.tag }, aside: true });
  else enq.emit.send({ to: 'log/1', message: { type: 'note', tag: e.tag, ...(e.remind ? { remind: true } : {}) } });
});

/**
 * A supervisor over a memory store that holds every transaction, once its group is cut, until
 * `release()`; `groups` lists the actors of each transaction written, in order.
 */
async function gated() {
  const gate = failingGate(await openPersistence('memory:'));
  const failing = gate.failing;
  const sup = new Supervisor({ clock: new SimulatedClock(0), persistence: gate.persistence, behaviors: [log, relay, panel] });
  for (const [address, kind] of [['log/1', 'log'], ['relay/m', 'relay'], ['relay/busy', 'relay'], ['panel/1', 'panel'], ['panel/2', 'panel'], ['panel/3', 'panel']] as const) await sup.spawn(address, kind);
  await sup.idle();
  gate.groups.length = 0;
  gate.state.open = false;
  /** Lets the oldest held transaction go, once one is held. */
  const release = async () => {
    for (let i = 0; gate.held.length === 0 && i < 100; i++) await settle();
    assert.ok(gate.held.length > 0, 'a transaction waits to be written');
    gate.held.shift()!();
    await settle();
  };
  const openAll = async () => {
    gate.openAll();
    await sup.idle();
  };
  const groups = gate.groups;
  return { sup, groups, release, openAll, failing, order: () => sup.view<{ order: string[] }>('log/1')!.ctx.order };
}

test("a panel's message passes bulk mail of other senders, never its own sender's; a note aside does not", async () => {
  const { sup, release, openAll, order } = await gated();
  // The log handles b0 and waits for its commit; b1–b3 (from outside) and m1, m2 (from relay/m) queue.
  sup.send('log/1', { type: 'note', tag: 'b0' });
  await settle();
  for (const tag of ['b1', 'b2', 'b3']) sup.send('log/1', { type: 'note', tag });
  sup.send('relay/m', { type: 'spray', tags: ['m1', 'm2'] });
  await settle();
  // A press at panel/2 tells the log directly: its note passes all five.
  assert.is(await sup.ask('panel/2', { type: 'press', tag: 'p1' }), 1);
  // A press at panel/1 goes through relay/m: that note may not pass m1, m2, sent before by the same relay.
  assert.is(await sup.ask('panel/1', { type: 'press', tag: 'mf', via: 'relay/m' }), 1);
  // A note aside from panel/3: nobody waits for it; it comes after mf, which a panel waits for.
  assert.is(await sup.ask('panel/3', { type: 'press', tag: 'a1', aside: true }), 1);
  await settle();
  assert.equal(order(), [], 'b0 is still being written');
  await release();
  await openAll();
  assert.equal(order(), ['b0', 'p1', 'b1', 'b2', 'b3', 'm1', 'm2', 'mf', 'a1']);
  await sup.close();
});

/** relay/busy's change is being written (held); the log's bulk batch (b0) waits in the queue behind it. */
async function logCommitQueued() {
  const gate = await gated();
  gate.sup.send('relay/busy', { type: 'hop' });
  await settle();
  gate.sup.send('log/1', { type: 'note', tag: 'b0' });
  await settle();
  return gate;
}

test("an actor's bulk commit goes with the urgent transaction once a panel's message waits for it, and the panel's batch joins it", async () => {
  const { sup, groups, release, openAll, order } = await logCommitQueued();
  await sup.ask('panel/1', { type: 'press', tag: 'p1' });
  await release(); // relay/busy's transaction
  await release(); // the urgent one: the panel's, and the log's b0 with p1 joined to it
  assert.equal(order(), ['b0', 'p1'], 'the log took p1 on the state b0 writes, and both were written at once');
  await openAll();
  assert.equal(groups, [['relay/busy'], ['panel/1', 'log/1']], 'no transaction of its own for p1');
  await sup.close();
});

test("a panel's batch joined to a commit that fails is handled again after the batch it joined, each once", async () => {
  const { sup, groups, release, openAll, order, failing } = await logCommitQueued();
  await sup.ask('panel/1', { type: 'press', tag: 'p1' });
  await release(); // relay/busy's transaction
  failing.next = true;
  await release(); // the urgent one, with b0 and p1: it fails
  assert.equal(order(), [], 'neither is committed');
  await openAll();
  // Handled again one per commit (the failure is looked for message by message): b0, then p1.
  assert.equal(order(), ['b0', 'p1']);
  // (The panel's own write, written behind, goes again at the head of the next transaction.)
  assert.equal(groups.slice(1), [['panel/1', 'log/1'], ['log/1']], `transactions: ${JSON.stringify(groups)}`);
  await sup.close();
});

test("a panel's batch that sets a timer does not join: it is handled once the commit it waited for is done", async () => {
  const { sup, groups, release, openAll, order } = await logCommitQueued();
  await sup.ask('panel/1', { type: 'press', tag: 'p1', remind: true });
  await release(); // relay/busy's transaction
  await release(); // the urgent one: the panel's, and the log's b0
  assert.equal(order(), ['b0'], 'p1 waits for b0 to be written');
  await openAll();
  assert.equal(order(), ['b0', 'p1']);
  assert.equal(groups, [['relay/busy'], ['panel/1', 'log/1'], ['log/1']]);
  await sup.close();
});

test('a note aside does not move bulk work ahead', async () => {
  const { sup, groups, release, openAll, order } = await logCommitQueued();
  await sup.ask('panel/3', { type: 'press', tag: 'a1', aside: true });
  await release();
  await release();
  await openAll();
  assert.equal(groups.slice(0, 3), [['relay/busy'], ['panel/3'], ['log/1']], `transactions: ${JSON.stringify(groups)}`);
  assert.equal(order(), ['b0', 'a1']);
  await sup.close();
});

test.run();
