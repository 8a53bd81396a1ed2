/**
 * A person at a panel does not queue behind bulk work: the commits of an interactive actor (a
 * session, a kiosk) and of what follows from its messages go to storage in a transaction of their
 * own, ahead of the group commits of a flood (actors/runtime/supervisor.ts, `commit`/`flush`).
 * Real time: every transaction waits a real 2 ms, as an fsync does.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SystemClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Message } from '../../actors/runtime/types.js';
import { answer, type Request } from '../../actors/runtime/ask.js';
import { slowStore } from '../support/slow-store.js';

type RelayEvent = { type: 'hop'; left: number } | { type: 'ping' };

/** Bulk work: hops to itself until none are left, each hop a state change (and so a commit). */
const relay = defineActor<{ self: string; count: number }, RelayEvent & Message, never>({
  kind: 'relay',
  init: (_input, address) => ({ self: address, count: 0 }),
  on: {
    hop: (ctx, e, enq) => {
      if (e.left > 0) enq.emit.send({ to: ctx.self, message: { type: 'hop', left: e.left - 1 } });
      return { ...ctx, count: ctx.count + 1 };
    },
    // Sent by the panel: not interactive itself, but it follows from a person's input.
    ping: (ctx) => ({ ...ctx, count: ctx.count + 1 }),
  },
});

type PanelEvent = { type: 'press' } & Request;

/** A panel: answers a key press once its new state is committed, and tells another actor. */
const panel = defineActor<{ presses: number }, PanelEvent & Message, never>({
  kind: 'panel',
  interactive: true,
  init: () => ({ presses: 0 }),
  on: {
    press: (ctx, e, enq) => {
      enq.emit.send({ to: 'relay/follow', message: { type: 'ping' } });
      enq.emit.send(answer(e, ctx.presses + 1));
      return { presses: ctx.presses + 1 };
    },
  },
});

/**
 * A supervisor on the system clock over a slow store (`slowStore(store)`), with the actors at
 * `addresses` spawned (`relay/…` or `panel/…`) and their spawns committed; `groups` then starts empty.
 */
async function started(store: Parameters<typeof slowStore>[0], addresses: string[]) {
  const { persistence, groups } = await slowStore(store);
  const sup = new Supervisor({ clock: new SystemClock(), persistence, behaviors: [relay, panel] });
  for (const address of addresses) await sup.spawn(address, address.split('/')[0]!);
  await sup.idle();
  groups.length = 0;
  return { sup, groups };
}

test('a panel commits ahead of a flood: alone in its transaction, after at most the one in flight (real time)', async () => {
  const CHAINS = 8;
  const chains = Array.from({ length: CHAINS }, (_, i) => `relay/r${i}`);
  const { sup, groups } = await started({}, [...chains, 'relay/follow', 'panel/1']);
  for (const chain of chains) sup.send(chain, { type: 'hop', left: 300 });
  await new Promise((resolve) => setTimeout(resolve, 20));

  const waited: number[] = [];
  for (let press = 1; press <= 5; press++) {
    const before = groups.length;
    assert.is(await sup.ask<number>('panel/1', { type: 'press' }), press);
    // The transaction in flight when the key was pressed, then the panel's own.
    waited.push(groups.length - before);
    await new Promise((resolve) => setTimeout(resolve, 3 + press));
  }
  // (The last transaction may well be the follow-up of the last press: the hops tell.)
  const floodStillRunning = sup.view<{ count: number }>('relay/r0')!.ctx.count < 301;
  await sup.idle();

  assert.ok(floodStillRunning, 'the flood was still committing while the keys were pressed');
  assert.ok(Math.max(...waited) <= 2, `transactions committed per key press: ${waited.join(', ')}`);
  const flood = (g: string[]) => g.some((a) => a.startsWith('relay/r'));
  /** A commit that follows from a press shares a transaction with the flood only after four urgent-only ones in a row. */
  const aheadOfFlood = (who: string) => {
    for (const [i, g] of groups.entries()) {
      if (!g.includes(who) || !flood(g)) continue;
      const before = groups.slice(Math.max(0, i - 4), i);
      assert.ok(before.length === 4 && !before.some(flood), `${who} committed with the flood at ${i}: ${JSON.stringify(groups.slice(Math.max(0, i - 6), i + 1))}`);
    }
  };
  assert.is(groups.filter((g) => g.includes('panel/1')).length, 5);
  aheadOfFlood('panel/1');
  // What follows from a press is urgent too: relay/follow goes ahead of the flood like the panel.
  assert.ok(groups.some((g) => g.includes('relay/follow')));
  aheadOfFlood('relay/follow');
  // Every hop of the flood was still committed, none lost to the reordering.
  const hops = groups.flat().filter((a) => a.startsWith('relay/r')).length;
  assert.ok(hops >= 1 && hops <= CHAINS * 301, `${hops} flood commits`);
  for (const chain of chains) assert.is(sup.view<{ count: number }>(chain)!.ctx.count, 301);
  await sup.close();
});

test('key presses back to back do not starve bulk work: every fifth transaction carries it (real time)', async () => {
  const { sup, groups } = await started({}, ['relay/r0', 'relay/r1', 'relay/r2', 'relay/r3', 'relay/follow', 'panel/1']);
  for (let i = 0; i < 4; i++) sup.send(`relay/r${i}`, { type: 'hop', left: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const start = groups.length;
  const waited: number[] = [];
  for (let press = 1; press <= 30; press++) {
    const before = groups.length;
    await sup.ask('panel/1', { type: 'press' });
    waited.push(groups.length - before);
  }
  const during = groups.slice(start);
  const floodCommits = during.filter((g) => g.some((a) => a.startsWith('relay/r'))).length;
  await sup.close();
  // The flood moves on while the keys come: at least one transaction in five carries its work.
  assert.ok(floodCommits >= Math.floor(during.length / 5), `${floodCommits} of ${during.length} transactions carried the flood during 30 presses`);
  // A press waits for at most the transaction in flight, the one shared with the flood, and its own.
  assert.ok(Math.max(...waited) <= 3, `transactions per press: ${waited.join(', ')}`);
});

test('a bulk commit that finishes while a panel waits hands back its work only after the panel is answered (real time)', async () => {
  // No wait before the group is cut, 5 ms after: the relay's group is closed when the key comes.
  const { sup, groups } = await started({ ms: 0, afterFillMs: 5 }, ['relay/a', 'relay/follow', 'panel/1']);
  sup.send('relay/a', { type: 'hop', left: 0 });
  await new Promise((resolve) => setTimeout(resolve, 1));
  const answered = sup.ask<number>('panel/1', { type: 'press' });
  assert.is(await answered, 1);
  // The relay's transaction ended while the press waited: its state moves only after the answer.
  assert.is(sup.view<{ count: number }>('relay/a')!.ctx.count, 0, 'the bulk work is still held when the panel is answered');
  assert.equal(groups.slice(0, 2), [['relay/a'], ['panel/1']], 'the relay was committed first');
  await sup.idle();
  assert.is(sup.view<{ count: number }>('relay/a')!.ctx.count, 1, 'and handed back right after');
  await sup.close();
});

test('a commit that becomes ready while the store opens its transaction joins it (real time)', async () => {
  const { sup, groups } = await started({ fills: true }, ['relay/a', 'relay/b']);
  sup.send('relay/a', { type: 'hop', left: 0 });
  // relay/a's transaction is opening (2 ms); relay/b's commit is ready 1 ms in.
  await new Promise((resolve) => setTimeout(resolve, 1));
  sup.send('relay/b', { type: 'hop', left: 0 });
  await sup.idle();
  assert.equal(groups, [['relay/a', 'relay/b']], 'one transaction for both');
  await sup.close();
});

test('a store that does not fill batches still gets every commit, cut when it returns', async () => {
  const { sup, groups } = await started({ fills: false }, ['relay/a', 'relay/b']);
  sup.send('relay/a', { type: 'hop', left: 2 });
  sup.send('relay/b', { type: 'hop', left: 2 });
  await sup.idle();
  assert.is(groups.flat().length, 6, `every hop committed: ${JSON.stringify(groups)}`);
  assert.is(sup.view<{ count: number }>('relay/a')!.ctx.count, 3);
  assert.is(sup.view<{ count: number }>('relay/b')!.ctx.count, 3);
  await sup.close();
});

test.run();
