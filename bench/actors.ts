/**
 * Actor messaging: messages per second routed through the Supervisor to 1,000 counter actors,
 * against 1,000 XState v5 actors doing the same assign, 1,000 bare @xstate/store stores (what each
 * of our actors is made of, without mailbox, trace or commit), and a bare EventEmitter dispatch.
 * Our runtime commits every new context to storage before it runs the effects, so a row with a
 * no-op persistence separates routing from persistence.
 */
import { EventEmitter } from 'node:events';
import { createStore } from '@xstate/store';
import { assign, createActor, setup } from 'xstate';
import { SimulatedClock } from '../actors/runtime/clock.js';
import { defineActor } from '../actors/runtime/define.js';
import { Supervisor, type ActorPersistence } from '../actors/runtime/supervisor.js';
import type { Message } from '../actors/runtime/types.js';
import { openPersistence } from '../src/persistence/keyv-persistence.js';
import { collections, gc, nowMs, row, type BenchContext, type Row } from './lib.js';

const ACTORS = 1_000;

interface CounterCtx {
  n: number;
}
type CounterEvent = { type: 'inc' } & Message;

const counter = defineActor<CounterCtx, CounterEvent>({
  kind: 'counter',
  init: () => ({ n: 0 }),
  on: { inc: (ctx) => ({ n: ctx.n + 1 }) },
});

const noopPersistence: ActorPersistence = {
  commit: async () => {},
  loadMessages: async () => [],
  saveActor: async () => {},
  deleteActor: async () => {},
  loadActors: async () => new Map(),
  appendAudit: async () => {},
};

/**
 * Messages per second through the Supervisor; checks every counter got its share. `burst`: all
 * messages are sent at once (each mailbox gets a backlog of messages ÷ 1,000, handled in batches);
 * otherwise one message per actor at a time, the next round once the box is idle, so that every
 * message is a batch of one with a commit of its own.
 */
async function supervisorRate(messages: number, persistence: ActorPersistence, burst = true): Promise<number> {
  const supervisor = new Supervisor({ clock: new SimulatedClock(), persistence, behaviors: [counter], traceLimit: 1_000 });
  const addresses = Array.from({ length: ACTORS }, (_, i) => `counter/${i}`);
  for (const a of addresses) await supervisor.spawn(a, 'counter');
  await supervisor.idle();
  // warm-up
  for (let i = 0; i < ACTORS * 5; i++) supervisor.send(addresses[i % ACTORS]!, { type: 'inc' });
  await supervisor.idle();
  gc();
  const t0 = nowMs();
  const { scavenges, others } = await collections(async () => {
    if (burst) {
      for (let i = 0; i < messages; i++) supervisor.send(addresses[i % ACTORS]!, { type: 'inc' });
      await supervisor.idle();
    } else {
      for (let round = 0; round < messages / ACTORS; round++) {
        for (const a of addresses) supervisor.send(a, { type: 'inc' });
        await supervisor.idle();
      }
    }
  });
  const seconds = (nowMs() - t0) / 1000;
  const expected = 5 + messages / ACTORS;
  for (const a of addresses) {
    const n = supervisor.view<CounterCtx>(a)!.ctx.n;
    if (n !== expected) throw new Error(`${a} counted ${n}, expected ${expected}`);
  }
  await supervisor.close();
  const rate = messages / seconds;
  const paused = [...scavenges, ...others].reduce((a, b) => a + b, 0);
  const key = `${persistence === noopPersistence ? 'noop' : 'memory'}${burst ? '' : ', single'}`;
  if (rate > (gcOfBest.get(key)?.rate ?? 0)) gcOfBest.set(key, { rate, share: paused / 1000 / seconds, scavenges: scavenges.length });
  return rate;
}

/** The share of its time the fastest run of each series spent in garbage collection pauses, and its scavenges. */
const gcOfBest = new Map<string, { rate: number; share: number; scavenges: number }>();

/**
 * Heap a message holds while it waits in a mailbox (after a full collection, 200 queued per
 * actor, one message object shared by all so that only the runtime's part counts).
 */
async function queuedBytes(messages: number): Promise<number> {
  const supervisor = new Supervisor({ clock: new SimulatedClock(), persistence: noopPersistence, behaviors: [counter], traceLimit: 1_000 });
  const addresses = Array.from({ length: ACTORS }, (_, i) => `counter/${i}`);
  for (const a of addresses) await supervisor.spawn(a, 'counter');
  for (let i = 0; i < messages; i++) supervisor.send(addresses[i % ACTORS]!, { type: 'inc' });
  await supervisor.idle();
  const inc: CounterEvent = { type: 'inc' };
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < messages; i++) supervisor.send(addresses[i % ACTORS]!, inc);
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / messages;
  await supervisor.idle();
  await supervisor.close();
  return bytes;
}

function xstateRate(messages: number): number {
  const machine = setup({ types: { context: {} as { n: number }, events: {} as { type: 'inc' } } }).createMachine({
    context: { n: 0 },
    on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
  });
  const actors = Array.from({ length: ACTORS }, () => createActor(machine).start());
  for (let i = 0; i < ACTORS * 5; i++) actors[i % ACTORS]!.send({ type: 'inc' });
  gc();
  const t0 = nowMs();
  for (let i = 0; i < messages; i++) actors[i % ACTORS]!.send({ type: 'inc' });
  const seconds = (nowMs() - t0) / 1000;
  const expected = 5 + messages / ACTORS;
  for (const a of actors) {
    if (a.getSnapshot().context.n !== expected) throw new Error(`xstate actor counted ${a.getSnapshot().context.n}, expected ${expected}`);
    a.stop();
  }
  return messages / seconds;
}

/** 1,000 bare @xstate/store stores, `store.send({ type: 'inc' })`: synchronous, nothing persisted. */
function storeRate(messages: number): number {
  const stores = Array.from({ length: ACTORS }, () => createStore({ context: { n: 0 }, on: { inc: (ctx: { n: number }) => ({ n: ctx.n + 1 }) } }));
  for (let i = 0; i < ACTORS * 5; i++) stores[i % ACTORS]!.send({ type: 'inc' });
  gc();
  const t0 = nowMs();
  for (let i = 0; i < messages; i++) stores[i % ACTORS]!.send({ type: 'inc' });
  const seconds = (nowMs() - t0) / 1000;
  const expected = 5 + messages / ACTORS;
  for (const s of stores) if (s.getSnapshot().context.n !== expected) throw new Error(`store counted ${s.getSnapshot().context.n}, expected ${expected}`);
  return messages / seconds;
}

function emitterRate(messages: number): number {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(ACTORS + 1);
  const counts = new Array<number>(ACTORS).fill(0);
  const names = Array.from({ length: ACTORS }, (_, i) => `counter/${i}`);
  names.forEach((name, i) => emitter.on(name, () => void (counts[i] = counts[i]! + 1)));
  for (let i = 0; i < ACTORS * 5; i++) emitter.emit(names[i % ACTORS]!, { type: 'inc' });
  const t0 = nowMs();
  for (let i = 0; i < messages; i++) emitter.emit(names[i % ACTORS]!, { type: 'inc' });
  const seconds = (nowMs() - t0) / 1000;
  if (counts.some((c) => c !== 5 + messages / ACTORS)) throw new Error('emitter lost messages');
  return messages / seconds;
}

/**
 * Best of each series over `rounds` rounds, every round running each series once, in an order
 * that turns round by round: on this noisy machine a baseline measured minutes after the runtime
 * (all runs of one, then all of the other) came out up to 40 % apart from one run to the next;
 * interleaved, each series meets the same disturbances, and the best run is the least disturbed.
 */
async function interleaved(rounds: number, series: Record<string, () => Promise<number> | number>): Promise<Record<string, number>> {
  const names = Object.keys(series);
  const top: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      top[name] = Math.max(top[name]!, await series[name]!());
    }
  }
  return top;
}

async function withMemory(fn: (p: ActorPersistence) => Promise<number>): Promise<number> {
  const p = await openPersistence('memory:');
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  const n = quick ? 20_000 : 200_000; // a multiple of ACTORS
  const rounds = quick ? 1 : 3;
  const best = await interleaved(rounds, {
    memory: () => withMemory((p) => supervisorRate(n, p)),
    noop: () => supervisorRate(n, noopPersistence),
    single: () => withMemory((p) => supervisorRate(n / 4, p, false)),
    // (The baselines run under the same collection observer as the supervisor's runs.)
    xstate: async () => (await collections(async () => xstateRate(n * 5))).result,
    store: async () => (await collections(async () => storeRate(n * 5))).result,
    emitter: async () => (await collections(async () => emitterRate(n * 20))).result,
  });
  const [memory, noop, single, xs, store, ee] = (['memory', 'noop', 'single', 'xstate', 'store', 'emitter'] as const).map((k) => best[k]!) as [number, number, number, number, number, number];
  log(`supervisor + memory: ${memory.toFixed(0)} msg/s`);
  log(`supervisor + no-op persistence: ${noop.toFixed(0)} msg/s`);
  log(`supervisor + memory, one message per actor at a time: ${single.toFixed(0)} msg/s`);
  log(`xstate: ${xs.toFixed(0)} msg/s`);
  log(`@xstate/store send: ${store.toFixed(0)} msg/s`);
  log(`EventEmitter: ${ee.toFixed(0)} msg/s`);
  const queued = await queuedBytes(n);
  const gcOf = (key: string): string => {
    const g = gcOfBest.get(key);
    return g ? `${(g.share * 100).toFixed(0)} % of this run's time went to garbage collection pauses (${g.scavenges} scavenges)` : '';
  };
  log(`a queued message holds ${queued.toFixed(0)} bytes of heap; ${gcOf('memory')}`);

  const B = 'actor messaging (1,000 actors)';
  const XS = 'XState v5 createActor + assign';
  return [
    row(B, 'Supervisor, memory: persistence', memory, 'msg/s', XS, xs,
      `target ≥ 2×; all sent at once (${n / ACTORS} per mailbox): every message gets envelope + trace entry + mailbox + pure handler; a backlog is handled in batches of ≤ 128 (cut after ~1 ms of handler time) whose final state is committed (one keyv set per batch, not per message) before their effects; XState is one synchronous call; ${gcOf('memory')}`),
    row(B, 'Supervisor, memory:, one message per actor at a time', single, 'msg/s', XS, xs,
      'no backlog: every message is a batch of one with its own keyv set (1,000 commits grouped per round) and an idle() barrier per round; the per-message cost where batching cannot help'),
    row(B, 'Supervisor, no-op persistence', noop, 'msg/s', XS, xs, 'routing + mailbox + trace + batching, no storage; the gap to the memory row is the keyv memory writes'),
    row(B, 'Supervisor, no-op persistence vs bare store', noop, 'msg/s', '@xstate/store send, 1,000 stores', store, `target ≥ 0.5×: the runtime around each store (envelope, mailbox, trace, commit queue); a queued message holds ${queued.toFixed(0)} bytes of heap (envelope, id, time, mailbox slot), so the ${n.toLocaleString('en-US')} queued at once outlive the young generation and every scavenge copies them: ${gcOf('noop')}; the bare store handles each send at once and keeps none`),
    row(B, 'Supervisor, memory: vs no-op', memory, 'msg/s', 'Supervisor, no-op persistence', noop, 'share of throughput left after the per-message commit to (in-memory) keyv'),
    row(B, 'XState v5, 1,000 actors', xs, 'msg/s', 'EventEmitter.emit to 1,000 names', ee, 'XState builds a snapshot and runs its action machinery per event'),
  ];
}
