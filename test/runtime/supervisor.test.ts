import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Message } from '../../actors/runtime/types.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';

type CounterEvent =
  | { type: 'add'; n: number }
  | { type: 'boom' }
  | { type: 'tell'; to: string }
  | { type: 'later'; inMs: number }
  | { type: 'ring' }
  | { type: 'restarted' }
  | { type: 'fetch' }
  | { type: 'fetched'; value: number }
  | { type: 'broken-io' }
  | { type: 'spawnChild'; address: string }
  | { type: 'actor.escalated'; actor: string };

interface CounterCtx {
  seen: number[];
  rings: number;
  restarts: number;
}

const counter = defineActor<CounterCtx, CounterEvent & Message, { kind: 'fetch' } | { kind: 'explode' }>({
  kind: 'counter',
  init: () => ({ seen: [], rings: 0, restarts: 0 }),
  on: {
    add: (ctx, e) => ({ ...ctx, seen: [...ctx.seen, e.n] }),
    boom: () => {
      throw Object.assign(new Error('handler bug'), { code: 'TEST_BUG' });
    },
    tell: (ctx, e, enq) => {
      enq.emit.send({ to: e.to, message: { type: 'add', n: ctx.seen.length } });
    },
    later: (ctx, e, enq) => {
      enq.emit.schedule({ key: 'ring', at: e.now + e.inMs, message: { type: 'ring' } });
    },
    ring: (ctx) => ({ ...ctx, rings: ctx.rings + 1 }),
    restarted: (ctx) => ({ ...ctx, restarts: ctx.restarts + 1 }),
    fetch: (_ctx, _e, enq) => {
      enq.emit.io({ op: { kind: 'fetch' } });
    },
    fetched: (ctx, e) => ({ ...ctx, seen: [...ctx.seen, e.value] }),
    'broken-io': (_ctx, _e, enq) => {
      enq.emit.io({ op: { kind: 'explode' } });
    },
    spawnChild: (_ctx, e, enq) => {
      enq.emit.spawn({ address: e.address, kind: 'counter', input: undefined });
    },
    'actor.escalated': (ctx, e) => ({ ...ctx, seen: [...ctx.seen, -e.actor.length] }),
  },
  async io(op) {
    if (op.kind === 'explode') throw new Error('device gone');
    return { type: 'fetched', value: 42 };
  },
});

async function setup(intensity = { max: 5, withinMs: 30_000 }) {
  const clock = new SimulatedClock();
  const persistence = await openPersistence('memory:');
  const sup = new Supervisor({ clock, persistence, behaviors: [counter], intensity, escalateTo: 'counter/boss' });
  return { clock, persistence, sup };
}

test('a pure handler can be tested with store.transition without running effects', () => {
  const [next, effects] = counter.store.transition(counter.snapshot({ seen: [1], rings: 0, restarts: 0 }) as never, {
    type: 'tell',
    to: 'counter/b',
  } as never);
  assert.equal((next.context as CounterCtx).seen, [1]);
  assert.equal(effects, [{ type: 'send', to: 'counter/b', message: { type: 'add', n: 1 } }]);
});

test('each mailbox is FIFO: messages are handled in the order sent', async () => {
  const { sup } = await setup();
  await sup.spawn('counter/a', 'counter');
  for (let i = 0; i < 50; i++) sup.send('counter/a', { type: 'add', n: i });
  await sup.idle();
  assert.equal(sup.view<CounterCtx>('counter/a')!.ctx.seen, Array.from({ length: 50 }, (_, i) => i));
});

test('messages between actors are routed and traced with their causation', async () => {
  const { sup } = await setup();
  await sup.spawn('counter/a', 'counter');
  await sup.spawn('counter/b', 'counter');
  const id = sup.send('counter/a', { type: 'tell', to: 'counter/b' });
  await sup.idle();
  assert.equal(sup.view<CounterCtx>('counter/b')!.ctx.seen, [0]);
  const reply = sup.trace.entries().find((e) => e.to === 'counter/b' && e.type === 'add');
  assert.ok(reply);
  assert.is(reply!.from, 'counter/a');
  assert.is(reply!.causation, id);
});

test('a message to an unknown address or of an unhandled type becomes a dead letter', async () => {
  const { sup } = await setup();
  await sup.spawn('counter/a', 'counter');
  const dead: string[] = [];
  sup.deadLetters.listen((d) => dead.push(`${d.envelope.to}:${d.envelope.message.type}:${d.reason}`));
  sup.send('counter/nobody', { type: 'add', n: 1 });
  sup.send('counter/a', { type: 'dance' });
  await sup.idle();
  assert.equal(dead, ['counter/nobody:add:no-such-actor', 'counter/a:dance:not-handled']);
  assert.ok(sup.trace.entries().every((e) => e.dead));
});

test('timers fire on the simulated clock, not on wall time', async () => {
  const { sup, clock } = await setup();
  await sup.spawn('counter/a', 'counter');
  sup.send('counter/a', { type: 'later', inMs: 30_000 });
  await clock.advance(29_999, () => sup.idle());
  assert.is(sup.view<CounterCtx>('counter/a')!.ctx.rings, 0);
  await clock.advance(1, () => sup.idle());
  assert.is(sup.view<CounterCtx>('counter/a')!.ctx.rings, 1);
});

test('a crashed actor restarts from its last committed state and keeps its later mail', async () => {
  const { sup } = await setup();
  await sup.spawn('counter/a', 'counter');
  sup.send('counter/a', { type: 'add', n: 1 });
  sup.send('counter/a', { type: 'boom' });
  sup.send('counter/a', { type: 'add', n: 2 });
  await sup.idle();
  const v = sup.view<CounterCtx>('counter/a')!;
  assert.is(v.status, 'active');
  assert.equal(v.ctx.seen, [1, 2]);
  assert.is(v.ctx.restarts, 1);
});

test('past the restart intensity the actor is failed, an alarm is published and the others keep working', async () => {
  const { sup } = await setup({ max: 5, withinMs: 30_000 });
  await sup.spawn('counter/a', 'counter');
  await sup.spawn('counter/b', 'counter');
  await sup.spawn('counter/boss', 'counter');
  const events: string[] = [];
  sup.events.listen((e) => events.push(`${e.type}:${String(e.actor)}`));
  for (let i = 0; i < 6; i++) sup.send('counter/a', { type: 'boom' });
  sup.send('counter/b', { type: 'add', n: 7 });
  await sup.idle();
  assert.is(sup.view('counter/a')!.status, 'failed');
  assert.ok(events.includes('actor.failed:counter/a'));
  assert.equal(sup.view<CounterCtx>('counter/b')!.ctx.seen, [7]);
  const told = sup.trace.entries().find((e) => e.to === 'counter/boss' && e.type === 'actor.escalated');
  assert.ok(told, 'the escalation address was told');
});

test('crashes spread over more than the intensity window do not escalate', async () => {
  const { sup, clock } = await setup({ max: 2, withinMs: 10_000 });
  await sup.spawn('counter/a', 'counter');
  for (let i = 0; i < 5; i++) {
    sup.send('counter/a', { type: 'boom' });
    await clock.advance(6_000, () => sup.idle());
  }
  assert.is(sup.view('counter/a')!.status, 'active');
});

test('I/O results come back as messages; a failed I/O crashes the actor', async () => {
  const { sup } = await setup();
  await sup.spawn('counter/a', 'counter');
  sup.send('counter/a', { type: 'fetch' });
  await sup.idle();
  assert.equal(sup.view<CounterCtx>('counter/a')!.ctx.seen, [42]);
  sup.send('counter/a', { type: 'broken-io' });
  await sup.idle();
  assert.is(sup.view<CounterCtx>('counter/a')!.ctx.restarts, 1);
});

test('state and pending timers survive a restart of the process', async () => {
  const clock = new SimulatedClock();
  const persistence = await openPersistence('memory:');
  const first = new Supervisor({ clock, persistence, behaviors: [counter] });
  await first.spawn('counter/a', 'counter');
  first.send('counter/a', { type: 'add', n: 5 });
  first.send('counter/a', { type: 'later', inMs: 60_000 });
  await first.idle();
  await first.close();
  const second = new Supervisor({ clock, persistence, behaviors: [counter] });
  assert.equal(await second.restore(), ['counter/a']);
  assert.equal(second.view<CounterCtx>('counter/a')!.ctx.seen, [5]);
  await clock.advance(60_000, () => second.idle());
  assert.is(second.view<CounterCtx>('counter/a')!.ctx.rings, 1);
});

test('the trace keeps the most recent entries in order once it is full', async () => {
  const { Trace } = await import('../../actors/runtime/trace.js');
  const trace = new Trace(3);
  for (let i = 1; i <= 5; i++) trace.record({ id: `m${i}`, at: i, from: 'a', to: 'b', type: 't', causation: null });
  assert.equal(trace.entries().map((e) => e.id), ['m3', 'm4', 'm5']);
  assert.equal(trace.entries(3).map((e) => e.id), ['m4', 'm5']);
  assert.is(trace.lastSeq, 5);
});

test('an actor spawned by another is escalated to its parent as well', async () => {
  const { sup } = await setup();
  await sup.spawn('counter/parent', 'counter');
  sup.send('counter/parent', { type: 'spawnChild', address: 'counter/child' });
  await sup.idle();
  for (let i = 0; i < 6; i++) sup.send('counter/child', { type: 'boom' });
  await sup.idle();
  assert.is(sup.view('counter/child')!.status, 'failed');
  const told = sup.trace.entries().filter((e) => e.type === 'actor.escalated').map((e) => e.to);
  assert.ok(told.includes('counter/parent'), 'the parent was told');
  assert.equal(sup.view<CounterCtx>('counter/parent')!.ctx.seen, [-'counter/child'.length]);
});

test.run();
