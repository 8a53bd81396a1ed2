import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor, type DeadLetter } from '../../actors/runtime/supervisor.js';
import type { BoxEvent, Message } from '../../actors/runtime/types.js';
import { openPersistence, storageError } from '../../src/persistence/keyv-persistence.js';

// An actor's I/O that storage refuses (STORAGE_UNAVAILABLE) is not the actor's crash and is not
// lost: the supervisor parks it and runs it again, in order, after the first commit that succeeds
// once storage failed. Any other rejection of an I/O stays a crash.

type WriterEvent = { type: 'write'; value: number } | { type: 'written'; value: number } | { type: 'break' } | { type: 'restarted' } | { type: 'quit' };

interface WriterCtx {
  written: number[];
  restarts: number;
}

/** A store outside the commits (as claims and the archive are), which can refuse writes or break. */
class SideStore {
  refusing = false;
  attempts: number[] = [];
  stored: number[] = [];
  async write(value: number): Promise<void> {
    this.attempts.push(value);
    if (this.refusing) throw storageError(new Error('SQLITE_FULL: database or disk is full'));
    this.stored.push(value);
  }
}

function writer(store: SideStore) {
  return defineActor<WriterCtx, WriterEvent & Message, { kind: 'write'; value: number } | { kind: 'break' }>({
    kind: 'writer',
    init: () => ({ written: [], restarts: 0 }),
    on: {
      write: (_ctx, e, enq) => {
        enq.emit.io({ op: { kind: 'write', value: e.value } });
      },
      written: (ctx, e) => ({ ...ctx, written: [...ctx.written, e.value] }),
      break: (_ctx, _e, enq) => {
        enq.emit.io({ op: { kind: 'break' } });
      },
      restarted: (ctx) => ({ ...ctx, restarts: ctx.restarts + 1 }),
      quit: (_ctx, _e, enq) => {
        enq.emit.stop({});
      },
    },
    async io(op) {
      if (op.kind === 'break') throw Object.assign(new Error('driver bug'), { code: 'TEST_BUG' });
      await store.write(op.value);
      return { type: 'written', value: op.value };
    },
  });
}

async function setup() {
  const clock = new SimulatedClock();
  const persistence = await openPersistence('memory:');
  // The box's commits fail too while `commitsFail`: the store as a whole is down.
  let commitsFail = false;
  const commit = persistence.commit.bind(persistence);
  persistence.commit = (batch) => (commitsFail ? Promise.reject(storageError(new Error('SQLITE_FULL: database or disk is full'))) : commit(batch));
  const store = new SideStore();
  const sup = new Supervisor({ clock, persistence, behaviors: [writer(store)] });
  const events: BoxEvent[] = [];
  const dead: DeadLetter[] = [];
  const health: boolean[] = [];
  sup.events.listen((e) => events.push(e));
  sup.deadLetters.listen((d) => dead.push(d));
  sup.storage.listen((s) => health.push(s.healthy));
  await sup.spawn('writer/a', 'writer');
  const ctx = () => sup.view<WriterCtx>('writer/a')!.ctx;
  return { clock, sup, store, events, dead, health, ctx, setCommitsFail: (v: boolean) => (commitsFail = v) };
}

test('an I/O storage refuses is parked, not a crash, and runs again exactly once after a commit succeeds', async () => {
  const { sup, store, events, dead, health, ctx, setCommitsFail } = await setup();
  store.refusing = true;
  setCommitsFail(true);
  sup.post('writer/a', { type: 'write', value: 1 });
  await sup.idle();
  assert.equal(store.attempts, [1], 'tried once');
  assert.equal(ctx().written, [], 'nothing came back');
  assert.is(sup.view('writer/a')!.status, 'active');
  assert.is(events.filter((e) => e.type === 'actor.restarted').length, 0, 'not a crash: no restart');
  assert.equal(dead, [], 'no dead letter');
  assert.is(sup.storageHealthy(), false, 'storage is reported down');
  assert.equal(health, [false]);

  // The store takes writes again, but no commit has succeeded yet: the op waits.
  store.refusing = false;
  await sup.advanceClock(3_000); // probe commits fail
  assert.equal(store.attempts, [1], 'not run again while commits still fail');

  setCommitsFail(false);
  await sup.advanceClock(1_000); // the next probe commit succeeds
  assert.equal(store.attempts, [1, 1], 'run again once storage takes writes');
  assert.equal(store.stored, [1]);
  assert.equal(ctx().written, [1], 'its outcome reached the actor');
  assert.is(sup.storageHealthy(), true);
  assert.equal(health, [false, true]);

  await sup.advanceClock(10_000);
  sup.post('writer/a', { type: 'write', value: 2 });
  await sup.idle();
  assert.equal(store.attempts, [1, 1, 2], 'exactly once: not run a third time');
  assert.equal(ctx().written, [1, 2]);
  assert.is(ctx().restarts, 0);
  await sup.close();
});

test('parked I/O runs again in the order storage refused it', async () => {
  const { sup, store, ctx } = await setup();
  store.refusing = true;
  for (const value of [1, 2, 3]) {
    sup.post('writer/a', { type: 'write', value });
    await sup.idle();
  }
  assert.equal(store.attempts, [1, 2, 3]);
  store.refusing = false;
  await sup.advanceClock(1_000); // the probe commit succeeds (only the side store failed)
  assert.equal(store.stored, [1, 2, 3], 'in order, each once');
  assert.equal(ctx().written, [1, 2, 3]);
  await sup.close();
});

test('an I/O rejecting with another error still crashes the actor and is not run again when storage returns', async () => {
  const { sup, store, events, dead, ctx } = await setup();
  sup.post('writer/a', { type: 'break' });
  await sup.idle();
  assert.is(ctx().restarts, 1, 'restarted from its committed state');
  assert.is(events.filter((e) => e.type === 'actor.restarted').length, 1);
  assert.equal(
    dead.map((d) => [d.envelope.message.type, d.reason]),
    [['io.crashed', 'crashed']],
  );
  assert.is(sup.storageHealthy(), true, 'not taken for a storage failure');

  // A storage outage and its end do not bring the crashed op back.
  store.refusing = true;
  sup.post('writer/a', { type: 'write', value: 7 });
  await sup.idle();
  store.refusing = false;
  await sup.advanceClock(1_000);
  assert.equal(ctx().written, [7]);
  assert.is(ctx().restarts, 1, 'no further crash');
  await sup.close();
});

test('I/O parked for an actor that stops before storage is back is dropped, not run for nobody', async () => {
  const { sup, store, dead, setCommitsFail } = await setup();
  store.refusing = true;
  sup.post('writer/a', { type: 'write', value: 1 });
  await sup.idle();
  setCommitsFail(true);
  sup.post('writer/a', { type: 'quit' });
  await sup.idle();
  // Storage is back: the stop is handled again, and its commit is the first to succeed.
  store.refusing = false;
  setCommitsFail(false);
  sup.post('writer/a', { type: 'quit' });
  await sup.idle();
  await sup.advanceClock(2_000);
  assert.is(sup.view('writer/a'), undefined, 'the writer stopped');
  assert.equal(store.attempts, [1], 'the parked write was not run again');
  assert.equal(
    dead.filter((d) => d.envelope.message.type === 'written'),
    [],
    'no outcome went to an actor that is gone',
  );
  await sup.close();
});

test.run();
