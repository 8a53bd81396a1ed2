/**
 * Group commit on a store that waits for its disk: after a slow commit the supervisor lets the
 * handlers that commit released commit too before it cuts the next group, so they share one
 * transaction instead of alternating (actors/runtime/supervisor.ts, flush). Real time: the
 * store's wait is a real 2 ms, as an fsync is.
 */
import { withCommit } from '../support/slow-store.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SystemClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Message } from '../../actors/runtime/types.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';

type RelayEvent = { type: 'hop'; left: number; sink: string } | { type: 'item' };

/**
 * Hops to itself until none are left, and hands an item to its sink with each hop, as the
 * producers of the group-commit bench do; every hop and every item changes a state.
 */
const relay = defineActor<{ self: string; count: number }, RelayEvent & Message, never>({
  kind: 'relay',
  init: (_input, address) => ({ self: address, count: 0 }),
  on: {
    hop: (ctx, e, enq) => {
      enq.emit.send({ to: e.sink, message: { type: 'item' } });
      if (e.left > 0) enq.emit.send({ to: ctx.self, message: { type: 'hop', left: e.left - 1, sink: e.sink } });
      return { ...ctx, count: ctx.count + 1 };
    },
    item: (ctx) => ({ ...ctx, count: ctx.count + 1 }),
  },
});

test('after a slow commit the commits it released share the next transaction (real time)', async () => {
  const inner = await openPersistence('memory:');
  const groups: number[] = [];
  const persistence = withCommit(inner, async (batch) => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    await inner.commit(batch);
    groups.push((batch.actors ?? []).length);
  });
  const sup = new Supervisor({ clock: new SystemClock(), persistence, behaviors: [relay] });
  const PAIRS = 8; // a chain of hops and its sink
  for (let i = 0; i < PAIRS; i++) {
    await sup.spawn(`relay/a${i}`, 'relay');
    await sup.spawn(`relay/b${i}`, 'relay');
  }
  await sup.idle();
  groups.length = 0;
  for (let i = 0; i < PAIRS; i++) sup.send(`relay/a${i}`, { type: 'hop', left: 10, sink: `relay/b${i}` });
  await sup.idle();
  // 8 chains of 11 hops, each with its item: 176 state changes. A transaction carries a hop and an
  // item of every chain (12 in all), not alternately the hops and the items (22).
  assert.is(groups.reduce((a, b) => a + b, 0), PAIRS * 22);
  assert.ok(groups.length <= 15, `176 changes took ${groups.length} transactions: ${groups.join(' ')}`);
  await sup.close();
});

test.run();
