import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock, SystemClock } from '../../actors/runtime/clock.js';
import { slowStore } from '../support/slow-store.js';
import { answer, type Request } from '../../actors/runtime/ask.js';
import { defineActor } from '../../actors/runtime/define.js';
import { DomainError } from '../../actors/domain/errors.js';
import { Supervisor, type ActorFailure } from '../../actors/runtime/supervisor.js';
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
  | { type: 'actor.escalated'; actor: string }
  | { type: 'delivery.failed'; to: string; messageType: string; crashed?: boolean }
  | { type: 'forward'; to: string; what: 'boom' | 'broken-io' }
  | ({ type: 'total'; n: number } & Request)
  | ({ type: 'relay'; to: string; as: 'total' | 'boom' } & Request)
  | ({ type: 'ignore' } & Request)
  | ({ type: 'passOn'; to: string } & Request)
  | ({ type: 'noteThenRelay'; note: string; to: string; aside: boolean } & Request);

interface CounterCtx {
  seen: number[];
  rings: number;
  restarts: number;
  /** messages of this actor that reached an actor failed for good: `to type` */
  bounced?: string[];
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
    'delivery.failed': (ctx, e) => ({ ...ctx, bounced: [...(ctx.bounced ?? []), `${e.to} ${e.messageType}${e.crashed ? ' crashed' : ''}`] }),
    forward: (_ctx, e, enq) => void enq.emit.send({ to: e.to, message: { type: e.what } }),
    total: (ctx, e, enq) => {
      const seen = [...ctx.seen, e.n];
      enq.emit.send(answer(e, seen.reduce((a, b) => a + b, 0)));
      return { ...ctx, seen };
    },
    relay: (_ctx, e, enq) => {
      enq.emit.send({ to: e.to, message: { type: e.as, n: 1, requestId: e.requestId, replyTo: e.replyTo } });
    },
    ignore: () => undefined,
    // The request itself, passed on to `to` (as the registry passes a staff command on to a pickup).
    passOn: (_ctx, e, enq) => void enq.emit.send({ to: e.to, message: { type: 'passOn', to: e.to, requestId: e.requestId, replyTo: e.replyTo } }),
    // A note to `note` (sent aside or not), then the request passed on to `to`, which answers it.
    noteThenRelay: (_ctx, e, enq) => {
      const note = { to: e.note, message: { type: 'add', n: 1 } };
      enq.emit.send(e.aside ? { ...note, aside: true } : note);
      enq.emit.send({ to: e.to, message: { type: 'total', n: 1, requestId: e.requestId, replyTo: e.replyTo } });
    },
  },
  async io(op) {
    if (op.kind === 'explode') throw new Error('device gone');
    return { type: 'fetched', value: 42 };
  },
});

async function setup(intensity = { max: 5, withinMs: 30_000 }) {
  const clock = new SimulatedClock();
  const persistence = await openPersistence('memory:');
  const alarms: ActorFailure[] = [];
  const sup = new Supervisor({ clock, persistence, behaviors: [counter], intensity, onFailure: (f) => alarms.push(f) });
  return { clock, persistence, sup, alarms };
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
  const { sup, alarms } = await setup({ max: 5, withinMs: 30_000 });
  await sup.spawn('counter/a', 'counter');
  await sup.spawn('counter/b', 'counter');
  const events: string[] = [];
  sup.events.listen((e) => events.push(`${e.type}:${String(e.actor)}`));
  for (let i = 0; i < 6; i++) sup.send('counter/a', { type: 'boom' });
  sup.send('counter/b', { type: 'add', n: 7 });
  await sup.idle();
  assert.is(sup.view('counter/a')!.status, 'failed');
  assert.ok(events.includes('actor.failed:counter/a'));
  assert.equal(sup.view<CounterCtx>('counter/b')!.ctx.seen, [7]);
  assert.equal(alarms.map((f) => [f.actor, f.kind]), [['counter/a', 'counter']], "the supervisor's alarm sink was told once");
  assert.equal(sup.failed().map((f) => f.actor), ['counter/a']);
  assert.not.ok(sup.trace.entries().some((e) => e.to === 'counter/a' && e.type === 'actor.escalated'), 'never the failed actor itself');
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

test('an overwritten trace slot holds only its new entry: every field, and no dead mark of the old one', async () => {
  const { Trace } = await import('../../actors/runtime/trace.js');
  const trace = new Trace(2);
  const heard: unknown[] = [];
  trace.listen((e) => heard.push(e));
  trace.record({ id: 'm1', at: 1, from: 'a', to: 'b', type: 'old', causation: 'c0', dead: true });
  trace.record({ id: 'm2', at: 2, from: 'a', to: 'b', type: 't', causation: null });
  trace.record({ id: 'm3', at: 3, from: 'x', to: 'y', type: 'new', causation: 'm2' });
  const m3 = { seq: 3, id: 'm3', at: 3, from: 'x', to: 'y', type: 'new', causation: 'm2' };
  assert.equal(trace.entries(), [{ seq: 2, id: 'm2', at: 2, from: 'a', to: 'b', type: 't', causation: null }, m3]);
  assert.equal(heard[0], { seq: 1, id: 'm1', at: 1, from: 'a', to: 'b', type: 'old', causation: 'c0', dead: true });
  assert.equal(heard[2], m3, 'a live listener gets the same entry');
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

async function rejection(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (error) {
    assert.instance(error, DomainError);
    return error as DomainError;
  }
  throw new Error('expected a rejection');
}

test('ask resolves with the reply, sent after the state it reports is committed', async () => {
  const { sup, persistence } = await setup();
  await sup.spawn('counter/a', 'counter');
  const total = await sup.ask<number>('counter/a', { type: 'total', n: 3 });
  assert.is(total, 3);
  assert.equal(sup.view<CounterCtx>('counter/a')!.ctx.seen, [3], 'the committed state is what the reply reports');
  assert.equal((await persistence.loadActors()).get('counter/a')!.ctx, { seen: [3], rings: 0, restarts: 0 }, 'and it is persisted');
  assert.is(await sup.ask<number>('counter/a', { type: 'total', n: 4 }), 7);
  assert.is(sup.pendingAsks, 0);
});

test('ask rejects with a catalog code: no such actor, a type it does not take, a crash, a failed actor', async () => {
  const { sup } = await setup({ max: 0, withinMs: 30_000 });
  await sup.spawn('counter/a', 'counter');
  assert.is((await rejection(sup.ask('counter/none', { type: 'total', n: 1 }))).code, 'ACTOR_NOT_FOUND');
  assert.is((await rejection(sup.ask('counter/a', { type: 'nonsense' }))).code, 'MESSAGE_NOT_HANDLED');
  assert.is((await rejection(sup.ask('counter/a', { type: 'boom' }))).code, 'ACTOR_CRASHED');
  assert.is(sup.view('counter/a')!.status, 'failed', 'max 0 restarts: the crash failed it');
  assert.is((await rejection(sup.ask('counter/a', { type: 'total', n: 1 }))).code, 'ACTOR_FAILED');
  assert.is(sup.pendingAsks, 0);
});

test("an actor that names its own code for when it failed for good is refused with it (a pickup: PICKUP_FAILED)", async () => {
  const clock = new SimulatedClock();
  const one = defineActor<{ n: number }, ({ type: 'boom' } | ({ type: 'get' } & Request)) & Message>({
    kind: 'one',
    failedCode: 'PICKUP_FAILED',
    init: () => ({ n: 0 }),
    on: {
      boom: () => {
        throw new Error('boom');
      },
      get: (ctx, e, enq) => void enq.emit.send(answer(e, ctx.n)),
    },
  });
  const sup = new Supervisor({ clock, persistence: await openPersistence('memory:'), behaviors: [one], intensity: { max: 0, withinMs: 30_000 } });
  await sup.spawn('one/a', 'one');
  assert.is((await rejection(sup.ask('one/a', { type: 'boom' }))).code, 'ACTOR_CRASHED');
  assert.is(sup.view('one/a')!.status, 'failed');
  assert.is((await rejection(sup.ask('one/a', { type: 'get' }))).code, 'PICKUP_FAILED');
});

test('ask rejects when work its message caused reaches a failed actor or crashes a handler', async () => {
  const { sup } = await setup({ max: 0, withinMs: 30_000 });
  await sup.spawn('counter/front', 'counter');
  await sup.spawn('counter/back', 'counter');
  assert.is(await sup.ask('counter/front', { type: 'relay', to: 'counter/back', as: 'total' }), 1, 'a forwarded request is answered by the actor it reached');
  assert.is((await rejection(sup.ask('counter/front', { type: 'relay', to: 'counter/back', as: 'boom' }))).code, 'ACTOR_CRASHED');
  assert.is((await rejection(sup.ask('counter/front', { type: 'relay', to: 'counter/back', as: 'total' }))).code, 'ACTOR_FAILED');
  assert.is(sup.view('counter/front')!.status, 'active');
});

test('a note sent aside is not followed: its reaching a failed actor does not reject the ask, which gets its answer', async () => {
  const { sup } = await setup({ max: 0, withinMs: 30_000 });
  for (const a of ['counter/front', 'counter/dead', 'counter/back']) await sup.spawn(a, 'counter');
  await rejection(sup.ask('counter/dead', { type: 'boom' }));
  assert.is(sup.view('counter/dead')!.status, 'failed');
  const relay = (aside: boolean) => sup.ask('counter/front', { type: 'noteThenRelay', note: 'counter/dead', to: 'counter/back', aside });
  assert.is((await rejection(relay(false))).code, 'ACTOR_FAILED', 'followed: the note to the failed actor fails the request');
  assert.is(await relay(true), 2, 'aside: the request is answered as if the note were not there');
  assert.is(sup.pendingAsks, 0);
});

test('a message that reaches an actor failed for good goes back to its sender as delivery.failed, if the sender takes it', async () => {
  const { sup } = await setup({ max: 0, withinMs: 30_000 });
  const plain = defineActor<{ told: number }, { type: 'tell'; to: string } & Message>({
    kind: 'plain',
    init: () => ({ told: 0 }),
    on: { tell: (ctx, e, enq) => (enq.emit.send({ to: e.to, message: { type: 'add', n: 1 } }), { told: ctx.told + 1 }) },
  });
  const withPlain = new Supervisor({ clock: new SimulatedClock(), persistence: await openPersistence('memory:'), behaviors: [counter, plain], intensity: { max: 0, withinMs: 30_000 } });
  for (const s of [sup, withPlain]) {
    await s.spawn('counter/front', 'counter');
    await s.spawn('counter/dead', 'counter');
    await rejection(s.ask('counter/dead', { type: 'boom' }));
  }
  sup.send('counter/front', { type: 'tell', to: 'counter/dead' });
  sup.send('counter/front', { type: 'tell', to: 'counter/nobody' });
  await sup.idle();
  assert.equal(sup.view<CounterCtx>('counter/front')!.ctx.bounced, ['counter/dead add'], 'told of the failed actor; a missing one is a dead letter only');
  // A sender that does not take delivery.failed is not sent it (it would be a dead letter itself).
  await withPlain.spawn('plain/1', 'plain');
  withPlain.send('plain/1', { type: 'tell', to: 'counter/dead' });
  await withPlain.idle();
  assert.is(withPlain.view<{ told: number }>('plain/1')!.ctx.told, 1);
  assert.not.ok(withPlain.trace.entries().some((e) => e.type === 'delivery.failed'));
  assert.ok(sup.trace.entries().some((e) => e.type === 'delivery.failed' && e.to === 'counter/front'));
});

test('a message whose handler crashes its recipient took no effect and goes back to its sender (crashed); one whose I/O crashed it does not (the I/O may have run)', async () => {
  const { sup } = await setup({ max: 5, withinMs: 30_000 });
  await sup.spawn('counter/front', 'counter');
  await sup.spawn('counter/victim', 'counter');
  sup.send('counter/front', { type: 'forward', to: 'counter/victim', what: 'boom' });
  await sup.idle();
  assert.equal(sup.view<CounterCtx>('counter/front')!.ctx.bounced, ['counter/victim boom crashed']);
  assert.is(sup.view<CounterCtx>('counter/victim')!.ctx.restarts, 1, 'restarted, not failed');
  sup.send('counter/front', { type: 'forward', to: 'counter/victim', what: 'broken-io' });
  await sup.idle();
  assert.is(sup.view<CounterCtx>('counter/victim')!.ctx.restarts, 2, 'the I/O crashed it');
  assert.equal(sup.view<CounterCtx>('counter/front')!.ctx.bounced, ['counter/victim boom crashed'], 'not sent back');
});

test('restore(ensure): the actors the box needs but the store lacks are spawned before stored mail is delivered, and start once, after the others recovered', async () => {
  type Ev = { type: 'started' } | { type: 'recovered' } | { type: 'note'; from: string };
  const log: string[] = [];
  const noting = defineActor<{ seen: number }, Ev & Message>({
    kind: 'noting',
    init: () => ({ seen: 0 }),
    on: {
      started: (ctx, _e, enq) => (log.push('new: started'), enq.emit.send({ to: 'noting/old', message: { type: 'note', from: 'new' } }), { seen: ctx.seen + 1 }),
      recovered: (ctx, _e, enq) => (log.push('old: recovered'), enq.emit.send({ to: 'noting/new', message: { type: 'note', from: 'old' } }), { seen: ctx.seen + 1 }),
      note: (ctx, e) => (log.push(`note from ${e.from}`), { seen: ctx.seen + 1 }),
    },
  });
  const persistence = await openPersistence('memory:');
  const first = new Supervisor({ clock: new SimulatedClock(), persistence, behaviors: [noting] });
  await first.spawn('noting/old', 'noting');
  await first.idle();
  log.length = 0;
  const again = new Supervisor({ clock: new SimulatedClock(), persistence, behaviors: [noting] });
  await again.restore(async () => {
    await again.spawn('noting/old', 'noting'); // stored: not spawned again
    await again.spawn('noting/new', 'noting');
  });
  await again.idle();
  // The stored actor's message on recovering reaches the new one (spawned before any delivery);
  // the new one starts once, after the recovery.
  assert.equal(log.filter((l) => l === 'new: started'), ['new: started'], 'started once');
  assert.ok(log.indexOf('old: recovered') < log.indexOf('new: started'), log.join(', '));
  assert.ok(log.includes('note from old') && log.includes('note from new'), log.join(', '));
  assert.equal(again.deadLetters ? again.trace.entries().filter((e) => e.dead).length : 0, 0, 'no dead letter');
});

test('restore(ensure): a stored timer overdue at the start fires after the actor recovered, not while ensure spawns (system clock)', async () => {
  type Ev = { type: 'arm' } | { type: 'tick' } | { type: 'recovered' } | { type: 'note' };
  const log: string[] = [];
  const ticking = defineActor<{ n: number }, Ev & Message>({
    kind: 'ticking',
    init: () => ({ n: 0 }),
    on: {
      arm: (ctx, e, enq) => (enq.emit.schedule({ key: 'tick', at: (e as { now: number }).now + 1, message: { type: 'tick' } }), { n: ctx.n + 1 }),
      tick: (ctx, _e, enq) => (log.push(`${ctx.n}: tick`), enq.emit.send({ to: 'ticking/new', message: { type: 'note' } }), { n: ctx.n + 1 }),
      recovered: (ctx) => (log.push(`${ctx.n}: recovered`), { n: ctx.n + 1 }),
      note: (ctx) => (log.push('note'), ctx),
    },
  });
  const { persistence } = await slowStore({ ms: 20 });
  const first = new Supervisor({ clock: new SimulatedClock(), persistence, behaviors: [ticking] });
  await first.spawn('ticking/old', 'ticking');
  first.send('ticking/old', { type: 'arm' });
  await first.idle();
  await first.close();
  // A start later on the system clock: the stored timer is long overdue.
  const again = new Supervisor({ clock: new SystemClock(), persistence, behaviors: [ticking] });
  let dead = 0;
  again.deadLetters.listen(() => dead++);
  await again.restore(async () => {
    await again.spawn('ticking/new', 'ticking'); // a commit that takes a real 20 ms
  });
  await again.idle();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await again.idle();
  await again.close();
  // As before ensure existed: the actor recovers (in the state it was stored in), then its timer fires.
  assert.equal(log, ['1: recovered', '2: tick', 'note'], log.join(', '));
  assert.is(dead, 0, 'nothing went to an actor not spawned yet');
});

test('ask rejects with ASK_TIMEOUT when no reply comes in time, and a late reply is dropped', async () => {
  const { sup, clock } = await setup();
  await sup.spawn('counter/a', 'counter');
  const unanswered = rejection(sup.ask('counter/a', { type: 'ignore' }, { timeoutMs: 500 }));
  await sup.idle();
  assert.is(sup.pendingAsks, 1, 'still waiting before the time is up');
  await clock.advance(499);
  assert.is(sup.pendingAsks, 1);
  await clock.advance(1);
  const error = await unanswered;
  assert.is(error.code, 'ASK_TIMEOUT');
  assert.is(sup.pendingAsks, 0);
});

test('one slow actor delays only the asks sent to it', async () => {
  const { sup } = await setup();
  await sup.spawn('counter/slow', 'counter');
  await sup.spawn('counter/quick', 'counter');
  const slow = sup.ask('counter/slow', { type: 'ignore' }, { timeoutMs: 60_000 });
  slow.catch(() => {});
  // more than one batch of mail (a mailbox hands its handler up to 128 messages per commit)
  for (let i = 0; i < 1_000; i++) sup.send('counter/slow', { type: 'add', n: i });
  assert.is(await sup.ask<number>('counter/quick', { type: 'total', n: 5 }), 5);
  assert.ok(sup.view('counter/slow')!.mailbox > 0, 'answered while the other actor still had mail');
  await sup.close();
});

test('a message to an address without an actor goes where the fallback says (the box: a pickup to the registry), never back to its sender', async () => {
  const sup = new Supervisor({
    clock: new SimulatedClock(),
    persistence: await openPersistence('memory:'),
    behaviors: [counter],
    fallback: (to) => (to.startsWith('lost/') ? 'counter/home' : null),
  });
  await sup.spawn('counter/home', 'counter');
  await sup.spawn('counter/other', 'counter');
  const dead: string[] = [];
  sup.deadLetters.listen((d) => dead.push(`${d.envelope.from}->${d.envelope.to} ${d.reason}`));
  sup.send('lost/1', { type: 'add', n: 7 });
  assert.is(await sup.ask('lost/2', { type: 'total', n: 3 }), 10, 'an ask is answered by the actor it fell back to');
  // Told by another actor: it falls back too; told by the fallback itself: a dead letter, not a loop.
  sup.send('counter/other', { type: 'tell', to: 'lost/3' });
  sup.send('counter/home', { type: 'tell', to: 'lost/4' });
  sup.send('nowhere/1', { type: 'add', n: 1 });
  await sup.idle();
  assert.equal(sup.view<CounterCtx>('counter/home')!.ctx.seen, [7, 3, 0]);
  assert.equal(dead.sort(), ['counter/home->lost/4 no-such-actor', 'external->nowhere/1 no-such-actor']);
  // The request itself passed on to an address with no actor (and no fallback) is the ask's own:
  // it rejects. Work of another type it caused there is not (a note to a session gone is no failure).
  assert.is((await rejection(sup.ask('counter/home', { type: 'passOn', to: 'counter/nobody' }))).code, 'ACTOR_NOT_FOUND');
  const relayed = sup.ask('counter/home', { type: 'relay', to: 'counter/nobody', as: 'total' });
  const settled = await Promise.race([relayed.then(() => 'answered', () => 'rejected'), sup.idle().then(() => 'still open')]);
  assert.is(settled, 'still open');
  await sup.close();
  assert.is((await rejection(relayed)).code, 'ACTOR_NOT_FOUND', 'closed: every open ask is refused');
});

test('a sender that answers for what a failed actor sent back (answersBounces): the ask its told message served gets that answer, not ACTOR_FAILED', async () => {
  type AskerEvent = ({ type: 'question'; to: string } & Request) | { type: 'delivery.failed'; to: string; messageType: string };
  const asker = (kind: string, answers: boolean) =>
    defineActor<{ pending: Request | null }, AskerEvent & Message>({
      kind,
      // (Only what it sends to the counters it answers for.)
      answersBounces: (to, type) => answers && to.startsWith('counter/') && type === 'add',
      init: () => ({ pending: null }),
      on: {
        // Tells the actor `to` (no request of its own) and answers once it hears back, or is told the note came back.
        question: (_ctx, e, enq) => {
          enq.emit.send({ to: e.to, message: { type: 'add', n: 1 } });
          return { pending: { requestId: e.requestId, replyTo: e.replyTo } };
        },
        'delivery.failed': (ctx, e, enq) => {
          if (ctx.pending) enq.emit.send(answer(ctx.pending, `refused by ${e.to}`));
          return { pending: null };
        },
      },
    });
  const sup = new Supervisor({ clock: new SimulatedClock(), persistence: await openPersistence('memory:'), behaviors: [counter, asker('answering', true), asker('silent', false)], intensity: { max: 0, withinMs: 30_000 } });
  await sup.spawn('counter/dead', 'counter');
  await rejection(sup.ask('counter/dead', { type: 'boom' }));
  await sup.spawn('answering/1', 'answering');
  await sup.spawn('silent/1', 'silent');
  assert.is(await sup.ask('answering/1', { type: 'question', to: 'counter/dead' }), 'refused by counter/dead');
  assert.is((await rejection(sup.ask('silent/1', { type: 'question', to: 'counter/dead' }))).code, 'ACTOR_FAILED', 'without it, the ask fails at the dead letter');
  assert.is(sup.pendingAsks, 0);
});

test('an actor forgotten when stopped leaves the store; any other stays stored, stopped', async () => {
  const stopper = (kind: string, forgottenWhenStopped: boolean) =>
    defineActor<{ n: number }, ({ type: 'end' } | { type: 'add'; n: number }) & Message>({
      kind,
      forgottenWhenStopped,
      init: () => ({ n: 1 }),
      on: { end: (_ctx, _e, enq) => void enq.emit.stop({}), add: (ctx, e) => ({ n: ctx.n + e.n }) },
    });
  const persistence = await openPersistence('memory:');
  const sup = new Supervisor({ clock: new SimulatedClock(), persistence, behaviors: [counter, stopper('gone', true), stopper('kept', false)], fallback: (to) => (to.startsWith('gone/') ? 'counter/home' : null) });
  await sup.spawn('counter/home', 'counter');
  await sup.spawn('gone/1', 'gone');
  await sup.spawn('kept/1', 'kept');
  assert.equal([...(await persistence.loadActors()).keys()].sort(), ['counter/home', 'gone/1', 'kept/1']);
  const dead: string[] = [];
  sup.deadLetters.listen((d) => dead.push(`${d.envelope.to} ${d.reason}`));
  // Mail queued behind the stop: refused for the one kept, passed to the fallback for the one forgotten.
  sup.send('gone/1', { type: 'end' });
  sup.send('gone/1', { type: 'add', n: 5 });
  sup.send('kept/1', { type: 'end' });
  sup.send('kept/1', { type: 'add', n: 5 });
  await sup.idle();
  assert.equal(dead, ['kept/1 actor-stopped']);
  assert.equal(sup.view<CounterCtx>('counter/home')!.ctx.seen, [5]);
  const stored = await persistence.loadActors();
  assert.equal([...stored.keys()].sort(), ['counter/home', 'kept/1']);
  assert.is(stored.get('kept/1')!.status, 'stopped');
  assert.is(sup.has('gone/1'), false);
});

test.run();
