/**
 * A transient actor (a panel's session: its state dies with the process, a restart ends it as
 * interrupted) does not wait for the disk before its effects: its commit is queued, its answer and
 * its messages go at once. What its messages cause is committed by their recipients, each after it
 * in the commit queue, so the store never holds the effect of a message without the commit that
 * sent it. Every other actor still answers only once its state is on disk.
 * Real time: every transaction waits a real 20 ms, as a slow fsync does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock, SystemClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Message } from '../../actors/runtime/types.js';
import { answer, type Request } from '../../actors/runtime/ask.js';
import { slowStore, withCommit } from '../support/slow-store.js';
import { pressPanel } from '../support/press-panel.js';
import { openPersistence, storageError } from '../../src/persistence/keyv-persistence.js';
import type { ActorPersistence, CommitBatch } from '../../actors/runtime/supervisor.js';

type Press = { type: 'press' } & Request;

/**
 * A session-like actor: counts a press, answers it, and (`tells`) tells the ledger. `keep` adds to
 * its state what a test needs there (a value no store can hold).
 */
function sessionLike({ tells = true, keep = {} }: { tells?: boolean; keep?: { big?: bigint } } = {}) {
  return pressPanel<Press>((_e, enq) => void (tells && enq.emit.send({ to: 'ledger', message: { type: 'note' } })), { kind: 'session', keep });
}
const session = sessionLike();

/** A durable actor: the same, but it keeps what it is told and answers after its commit. */
const ledger = defineActor<{ notes: number }, ({ type: 'note' } | ({ type: 'read' } & Request)) & Message, never>({
  kind: 'ledger',
  init: () => ({ notes: 0 }),
  on: {
    note: (ctx) => ({ notes: ctx.notes + 1 }),
    read: (ctx, e, enq) => {
      enq.emit.send(answer(e, ctx.notes + 1));
      return { notes: ctx.notes + 1 };
    },
  },
});

// A slow disk (each transaction takes this long), so that an answer that waits for it cannot pass for
// one that does not, even on a busy machine (a run beside the full suite once took 32 ms to answer).
const FSYNC_MS = 100;

test('a transient actor answers before its commit is on disk; its commit lands before the one of what its message caused', async () => {
  const { persistence, groups } = await slowStore({ ms: FSYNC_MS });
  const supervisor = new Supervisor({ clock: new SystemClock(), persistence, behaviors: [session, ledger] });
  try {
    await supervisor.spawn('ledger', 'ledger');
    await supervisor.spawn('session/1', 'session');
    groups.length = 0;

    const t0 = performance.now();
    assert.is(await supervisor.ask('session/1', { type: 'press' }), 1);
    const sessionMs = performance.now() - t0;
    assert.ok(sessionMs < FSYNC_MS, `the session answered in ${sessionMs.toFixed(1)} ms, before a commit could be on disk`);
    assert.equal(groups, [], 'nothing was on disk yet when it answered');

    // The durable actor answers only after its own commit.
    const t1 = performance.now();
    assert.is(await supervisor.ask('ledger', { type: 'read' }), 2, 'the note the session sent was handled first');
    assert.ok(performance.now() - t1 >= FSYNC_MS - 1, 'the ledger waited for the disk');
    await supervisor.idle();
    // The session's commit (its state and the note it sent) is written before the ledger's handling of it.
    const sessionAt = groups.findIndex((g) => g.includes('session/1'));
    const ledgerAt = groups.findIndex((g) => g.includes('ledger'));
    assert.ok(sessionAt >= 0 && ledgerAt >= sessionAt, `transactions in order: ${JSON.stringify(groups)}`);
  } finally {
    await supervisor.close();
  }
});


// A relay (a durable actor whose batch only passes a message on) doing bulk work, and a panel's
// actor it tells something: the panel's actor commits urgently, ahead of bulk transactions.
/** A relay: a durable actor whose batch only passes a note on to `target`, changing nothing of its own. */
const relayTo = (target: string) =>
  defineActor<{ passes: number }, { type: 'pass' } & Message, never>({
    kind: 'relay',
    init: () => ({ passes: 0 }),
    on: {
      pass: (ctx, _e, enq) => {
        enq.emit.send({ to: target, message: { type: 'note' } });
        return ctx;
      },
    },
  });
const relay = relayTo('kiosk/1');

const kiosk = defineActor<{ notes: number }, { type: 'note' } & Message, never>({
  kind: 'kiosk',
  interactive: true,
  init: () => ({ notes: 0 }),
  on: { note: (ctx) => ({ notes: ctx.notes + 1 }) },
});

test('a bulk batch written behind is on disk before the urgent commit of what its message caused: nothing it sent is left in the store', async () => {
  const { persistence, groups } = await slowStore({ ms: 0 });
  const supervisor = new Supervisor({ clock: new SystemClock(), persistence, behaviors: [relay, kiosk] });
  try {
    await supervisor.spawn('relay', 'relay');
    await supervisor.spawn('kiosk/1', 'kiosk');
    groups.length = 0;
    supervisor.send('relay', { type: 'pass' });
    await supervisor.idle();
    assert.is((supervisor.view<{ notes: number }>('kiosk/1')!.ctx).notes, 1);
    // Were the kiosk's commit (which marks the note handled) written before the relay's (which
    // stores the note), the note would stay in the store and reach the kiosk again at the next start.
    assert.equal(await persistence.loadMessages(), [], `transactions in order: ${JSON.stringify(groups)}`);
  } finally {
    await supervisor.close();
  }
});

// A source that tells the relay durably, the relay passing it on to a ledger that counts.
const source = defineActor<{ sent: number }, { type: 'go' } & Message, never>({
  kind: 'source',
  init: () => ({ sent: 0 }),
  on: {
    go: (ctx, _e, enq) => {
      enq.emit.send({ to: 'relay', message: { type: 'pass' } });
      return { sent: ctx.sent + 1 };
    },
  },
});

const passOn = relayTo('ledger');

/** The memory store; the transaction that holds `failOnce` fails once, as on a full disk. */
async function flakyStore(): Promise<{ persistence: ActorPersistence; arm: (when: (batch: CommitBatch) => boolean) => void }> {
  const inner = await openPersistence('memory:');
  let when: ((batch: CommitBatch) => boolean) | null = null;
  const persistence = withCommit(inner, async (batch) => {
    batch.fill?.();
    if (when?.(batch)) {
      when = null;
      throw storageError(new Error('SQLITE_FULL: database or disk is full'));
    }
    await inner.commit(batch);
  });
  return { persistence, arm: (w) => void (when = w) };
}

test('a relay batch whose commit written behind failed on storage is written once storage is back: its message is not passed on again at the next start', async () => {
  const { persistence, arm } = await flakyStore();
  const clock = new SimulatedClock();
  const first = new Supervisor({ clock, persistence, behaviors: [source, passOn, ledger] });
  await first.spawn('source', 'source');
  await first.spawn('relay', 'relay');
  await first.spawn('ledger', 'ledger');
  await first.idle();
  // The transaction with the relay's commit (the note it sends) fails; storage is back for the probe.
  arm((batch) => (batch.sent ?? []).some((env) => env.message.type === 'note'));
  first.send('source', { type: 'go' });
  await first.idle();
  await first.advanceClock(1_000); // the probe: storage takes writes again, parked work is done again
  await first.idle();
  assert.is(first.storageHealthy(), true);
  assert.is(first.view<{ notes: number }>('ledger')!.ctx.notes, 1, 'the ledger counted the note once');
  await first.close();

  const again = new Supervisor({ clock: new SimulatedClock(), persistence, behaviors: [source, passOn, ledger] });
  await again.restore();
  await again.idle();
  assert.is(again.view<{ notes: number }>('ledger')!.ctx.notes, 1, 'the pass is not handled (and passed on) again at the next start');
  assert.equal(await persistence.loadMessages(), [], 'nothing left in the store');
  await again.close();
});

test('close waits for the commits written behind: what a session answered is in the store once close returns', async () => {
  const { persistence } = await slowStore({ ms: FSYNC_MS });
  // A session that tells no one: no other handler keeps close waiting.
  const alone = sessionLike({ tells: false });
  const supervisor = new Supervisor({ clock: new SystemClock(), persistence, behaviors: [alone] });
  await supervisor.spawn('session/1', 'session');
  assert.is(await supervisor.ask('session/1', { type: 'press' }), 1);
  await supervisor.close();
  const stored = await persistence.loadActors();
  assert.equal(stored.get('session/1')?.ctx, { presses: 1 }, 'the session\'s commit was written before close returned');
});

test('a commit written behind that can never be written (a value storage cannot hold) is not carried into every later transaction', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'write-behind-'));
  const persistence = await openPersistence(`sqlite://${join(dir, 'box.sqlite')}`);
  // A session whose state holds a value no store can serialize: a bug, not an outage.
  const broken = sessionLike({ keep: { big: 1n } });
  const clock = new SimulatedClock();
  const supervisor = new Supervisor({ clock, persistence, behaviors: [broken, ledger] });
  try {
    await supervisor.spawn('ledger', 'ledger');
    await supervisor.spawn('session/1', 'session');
    await supervisor.ask('session/1', { type: 'press' }).catch(() => {});
    await supervisor.idle();
    await supervisor.advanceClock(1_000); // the probe
    await supervisor.idle();
    assert.is(supervisor.storageHealthy(), true, 'storage takes writes again');
    assert.is(await supervisor.ask('ledger', { type: 'read' }), 2, 'and the ledger commits');
  } finally {
    await supervisor.close();
    await persistence.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
