/**
 * A panel's batch that joins the commit its actor awaits (actors/runtime/supervisor.ts,
 * `joinCommit`) does what it would have done had it been handled after that commit: a timer it
 * cancels does not fire, a timer whose message it handled is gone from the store with the write
 * that says so, and what it publishes carries the time it was handled. And a timer cancelled by a
 * batch does not fire while that batch's commit is written (nor after), unless the commit fails. The store holds every transaction until the test lets it go,
 * so the order of events is fixed, not a matter of timing.
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
import { setRow } from '../../actors/runtime/table.js';

type AlarmEvent = { type: 'arm' } | { type: 'disarm' } | { type: 'ring' } | { type: 'touch'; tag: string } | { type: 'show' };
type AlarmCtx = { armed: boolean; log: Record<string, { tag: string }>; n: number };

/**
 * An alarm that `arm` sets to ring in a minute and `disarm` cancels; it logs every ring and touch
 * as a row. `interactive`: it serves a panel itself (its commits are urgent, and every message it
 * takes serves a panel).
 */
const alarmOf = (kind: string, interactive: boolean) =>
  defineActor<AlarmCtx, AlarmEvent & Message, never>({
    kind,
    ...(interactive ? { interactive: true } : {}),
    tables: ['log'],
    init: () => ({ armed: false, log: {}, n: 0 }),
    on: {
      arm: (ctx, _e, enq) => {
        enq.emit.schedule({ key: 'ring', at: 60_000, message: { type: 'ring' } });
        return { ...ctx, armed: true };
      },
      disarm: (ctx, _e, enq) => {
        enq.emit.cancel({ key: 'ring' });
        return { ...ctx, armed: false };
      },
      ring: (ctx) => ({ ...ctx, n: ctx.n + 1, log: setRow(ctx.log, String(ctx.n + 1), { tag: 'rang' }) }),
      touch: (ctx, e) => ({ ...ctx, n: ctx.n + 1, log: setRow(ctx.log, String(ctx.n + 1), { tag: e.tag }) }),
      show: (ctx, _e, enq) => {
        enq.emit.publish({ event: { type: 'alarm.shown' } });
        return { ...ctx, n: ctx.n + 1 };
      },
    },
  });
const alarm = alarmOf('alarm', false);
const desk = alarmOf('desk', true);

/** Keeps a transaction of its own busy, so that the next commits wait in the queues. */
const busy = defineActor<{ hops: number }, { type: 'hop' } & Message, never>({ kind: 'busy', init: () => ({ hops: 0 }), on: { hop: (ctx) => ({ hops: ctx.hops + 1 }) } });

type PanelEvent = { type: 'press'; to: string; message: { type: 'disarm' } | { type: 'show' } } & Request;
const panel = pressPanel<PanelEvent>((e, enq) => enq.emit.send({ to: e.to, message: e.message } as never));

async function gated() {
  const inner = await openPersistence('memory:');
  /** `failing.next`: the next transaction that writes alarm/1 fails, as a write the store cannot take. */
  const gate = failingGate(inner, (batch) => batch.actors?.some((a) => a.address === 'alarm/1') === true);
  const failing = gate.failing;
  const clock = new SimulatedClock(0);
  const behaviors = [alarm, desk, busy, panel];
  const sup = new Supervisor({ clock, persistence: gate.persistence, behaviors });
  for (const [address, kind] of [['alarm/1', 'alarm'], ['desk/1', 'desk'], ['busy/1', 'busy'], ['panel/1', 'panel']] as const) await sup.spawn(address, kind);
  await sup.idle();
  /** From now on every transaction waits; busy/1's is the first, held. */
  const hold = async () => {
    gate.state.open = false;
    sup.send('busy/1', { type: 'hop' });
    for (let i = 0; gate.held.length === 0 && i < 100; i++) await settle();
    assert.is(gate.held.length, 1, "busy/1's transaction is held");
  };
  const openAll = async () => {
    gate.openAll();
    await sup.idle();
  };
  /** A second box over what the first committed, as after a power cut. */
  const restart = async () => {
    const again = new Supervisor({ clock, persistence: inner, behaviors });
    await again.restore();
    await again.idle();
    return again;
  };
  return { sup, clock, hold, openAll, restart, gate: failing };
}

test("a panel's batch that cancels a timer the awaited commit sets is not joined to it: the timer does not fire", async () => {
  const { sup, hold, openAll } = await gated();
  await hold();
  // The alarm is armed in bulk: its commit (which sets the timer) waits behind busy/1's.
  sup.send('alarm/1', { type: 'arm' });
  await settle();
  // A person disarms it at a panel: the alarm's commit moves ahead, and the disarm is handled.
  const pressed = sup.ask('panel/1', { type: 'press', to: 'alarm/1', message: { type: 'disarm' } });
  await openAll();
  assert.is(await pressed, 1);
  assert.is(sup.view<AlarmCtx>('alarm/1')!.ctx.armed, false, 'disarmed');
  await sup.advanceClock(120_000);
  assert.equal(Object.values(sup.view<AlarmCtx>('alarm/1')!.ctx.log), [], 'a cancelled timer does not ring');
  await sup.close();
});

test('a timer that fired while its actor awaited a commit, whose message joined it, is gone from the store with that write', async () => {
  const { sup, clock, hold, openAll, restart } = await gated();
  sup.send('desk/1', { type: 'arm' });
  await sup.idle();
  await hold();
  // The desk's commit (urgent: it serves a panel) waits behind busy/1's.
  sup.send('desk/1', { type: 'touch', tag: 't1' });
  await settle();
  // Meanwhile its timer rings: the ring is handled at once and joins the queued commit.
  void clock.advance(60_000);
  await settle();
  await openAll();
  assert.equal(Object.values(sup.view<AlarmCtx>('desk/1')!.ctx.log).map((r) => r.tag), ['t1', 'rang']);
  await sup.close();
  // The store says the ring was handled: after a power cut it does not ring again.
  const again = await restart();
  await again.advanceClock(120_000);
  assert.equal(Object.values(again.view<AlarmCtx>('desk/1')!.ctx.log).map((r) => r.tag), ['t1', 'rang'], 'rang once');
  await again.close();
});

test("what a joined panel's batch publishes carries the time it was handled, not that of the batch it joined", async () => {
  const { sup, clock, hold, openAll } = await gated();
  const shown: number[] = [];
  sup.events.listen((e) => {
    if (e.type === 'alarm.shown') shown.push(e.at!);
  });
  await hold();
  sup.send('alarm/1', { type: 'touch', tag: 't1' }); // handled at 0, its commit waits
  await settle();
  void clock.advance(5_000);
  await settle();
  const pressed = sup.ask('panel/1', { type: 'press', to: 'alarm/1', message: { type: 'show' } }); // joins at 5 s
  await openAll();
  assert.is(await pressed, 1);
  assert.equal(shown, [5_000]);
  await sup.close();
});

test('a timer that comes due while the commit of the batch that cancels it is written does not fire; should that commit fail, it fires', async () => {
  const { sup, clock, hold, openAll, gate } = await gated();
  for (const fails of [false, true]) {
    sup.send('alarm/1', { type: 'arm' });
    await sup.idle();
    await hold();
    // Disarmed in bulk: the commit that cancels the timer waits behind busy/1's.
    sup.send('alarm/1', { type: 'disarm' });
    await settle();
    gate.next = fails;
    void clock.advance(60_000); // the timer comes due meanwhile
    await settle();
    await openAll();
    const rang = Object.values(sup.view<AlarmCtx>('alarm/1')!.ctx.log).length;
    if (!fails) assert.is(rang, 0, 'disarmed before it rang: it does not ring');
    else assert.is(rang, 1, 'the disarm was not written: it rings, once');
  }
  await sup.close();
});

test.run();
