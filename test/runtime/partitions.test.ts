import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { answer, type Request } from '../../actors/runtime/ask.js';
import { defineActor } from '../../actors/runtime/define.js';
import { Supervisor, type ActorFailure, type CommitBatch, type PartitionQuarantine } from '../../actors/runtime/supervisor.js';
import type { BoxEvent, Message } from '../../actors/runtime/types.js';
import { openPersistence, type Persistence } from '../../src/persistence/keyv-persistence.js';
import { rejectionCode } from '../domain/assert-code.js';

// Partitioned failure (ActorBehavior.partitionOf): a message that names an account of this tiny
// ledger crashes against that account's own restart intensity; past it only the account is
// quarantined, the ledger serves every other one. A message naming no account crashes the ledger
// as before.

type LedgerEvent =
  | ({ type: 'deposit'; account: string; n: number } & Request)
  | { type: 'post'; account: string; n: number }
  | { type: 'remindLater'; account: string; inMs: number }
  | { type: 'remind'; account: string }
  | { type: 'lookUp'; account: string }
  | { type: 'lookedUp'; account: string }
  | { type: 'statement' };

interface LedgerCtx {
  /** a balance stored as text is the damaged row: handlers that compute with it throw */
  balances: Record<string, number | string>;
  reminded: string[];
}

/** Adds to a balance; a damaged (non-numeric) balance throws, as real code tripping on a bad row does. */
function add(balance: number | string | undefined, n: number): number {
  const current = balance ?? 0;
  if (typeof current !== 'number') throw new TypeError(`balance is ${typeof current}, not a number`);
  return current + n;
}

/** A look-up at a bank's service: it rejects for an account it cannot parse (the damaged one). */
type LedgerIo = { kind: 'lookUp'; account: string; balance: number | string | undefined };

const ledger = defineActor<LedgerCtx, LedgerEvent & Message, LedgerIo>({
  kind: 'ledger',
  init: () => ({ balances: {}, reminded: [] }),
  partitionOf: (_ctx, m) => ('account' in m && typeof m.account === 'string' ? m.account : null),
  partitionCode: 'PICKUP_FAILED',
  on: {
    deposit: (ctx, e, enq) => {
      const balance = add(ctx.balances[e.account], e.n);
      enq.emit.send(answer(e, balance));
      return { ...ctx, balances: { ...ctx.balances, [e.account]: balance } };
    },
    post: (ctx, e) => ({ ...ctx, balances: { ...ctx.balances, [e.account]: add(ctx.balances[e.account], e.n) } }),
    remindLater: (_ctx, e, enq) => {
      enq.emit.schedule({ key: `remind:${e.account}`, at: e.now + e.inMs, message: { type: 'remind', account: e.account } });
    },
    remind: (ctx, e) => {
      add(ctx.balances[e.account], 0);
      return { ...ctx, reminded: [...ctx.reminded, e.account] };
    },
    lookUp: (ctx, e, enq) => {
      enq.emit.io({ op: { kind: 'lookUp', account: e.account, balance: ctx.balances[e.account] } });
    },
    lookedUp: (ctx, e) => ({ ...ctx, reminded: [...ctx.reminded, `looked up ${e.account}`] }),
    // Concerns every account at once: no partition.
    statement: (ctx) => {
      for (const b of Object.values(ctx.balances)) add(b, 0);
      return ctx;
    },
  },
  async io(op) {
    if (typeof op.balance === 'string') throw new TypeError(`the service cannot parse balance ${op.balance}`);
    return { type: 'lookedUp', account: op.account };
  },
});

/** A store holding a ledger whose account `bad` has a balance stored as text (the damaged row). */
async function damagedStore(): Promise<Persistence> {
  const persistence = await openPersistence('memory:');
  await persistence.saveActor('ledger/1', { kind: 'ledger', ctx: { balances: { good: 10, bad: '12,50', other: 1 }, reminded: [] }, timers: [], status: 'active' });
  return persistence;
}

async function start(persistence: Persistence, intensity = { max: 2, withinMs: 30_000 }, clock = new SimulatedClock(1_000)) {
  const failures: ActorFailure[] = [];
  const quarantines: PartitionQuarantine[] = [];
  const events: BoxEvent[] = [];
  const sup = new Supervisor({ clock, persistence, behaviors: [ledger], intensity, onFailure: (f) => failures.push(f), onQuarantine: (q) => quarantines.push(q) });
  sup.events.listen((e) => events.push(e));
  await sup.restore();
  await sup.idle();
  return { sup, clock, failures, quarantines, events };
}

const deposit = (sup: Supervisor, account: string, n: number) => sup.ask<number>('ledger/1', { type: 'deposit', account, n });


test('crashes on one partition restart the actor within its intensity, then quarantine only that partition', async () => {
  const { sup, failures, quarantines, events } = await start(await damagedStore());
  // Within the intensity (2): each crash is a restart, and the other accounts are served between them.
  for (let i = 1; i <= 2; i++) {
    assert.is(await rejectionCode(deposit(sup, 'bad', 1)), 'ACTOR_CRASHED');
    assert.is(await deposit(sup, 'good', 1), 10 + i);
  }
  assert.equal(quarantines, []);
  // The third crash within 30 s is past it: the partition is quarantined, with the actor's code.
  assert.is(await rejectionCode(deposit(sup, 'bad', 1)), 'PICKUP_FAILED');
  assert.equal(quarantines.map((q) => [q.actor, q.partition, q.code]), [['ledger/1', 'bad', 'ACTOR_CRASHED']]);
  assert.ok(events.some((e) => e.type === 'partition.quarantined' && e.partition === 'bad'));
  // From now on its messages are refused at once, without running the handler.
  assert.is(await rejectionCode(deposit(sup, 'bad', 1)), 'PICKUP_FAILED');
  assert.is(events.filter((e) => e.type === 'actor.restarted').length, 3 - 1, 'no further crash');
  // The actor is not failed and serves every other account.
  assert.equal(failures, []);
  assert.is(sup.view('ledger/1')!.status, 'active');
  assert.is(await deposit(sup, 'good', 5), 17);
  assert.is(await deposit(sup, 'other', 1), 2);
  assert.equal(sup.quarantined().map((q) => q.partition), ['bad']);
  assert.is(sup.pendingAsks, 0);
  await sup.close();
});

test('partition crashes do not count against the actor: a crash without a partition still fails it past the intensity', async () => {
  const { sup, failures } = await start(await damagedStore(), { max: 1, withinMs: 30_000 });
  for (let i = 0; i < 3; i++) await rejectionCode(deposit(sup, 'bad', 1));
  assert.is(sup.view('ledger/1')!.status, 'active', 'three crashes on one partition: the actor is not failed');
  // `statement` concerns every account (no partition): it trips on the damaged row and counts
  // against the actor, which fails for good past its intensity, as before.
  sup.post('ledger/1', { type: 'statement' });
  await sup.idle();
  assert.is(sup.view('ledger/1')!.status, 'active', 'one crash is a restart');
  sup.post('ledger/1', { type: 'statement' });
  await sup.idle();
  assert.is(sup.view('ledger/1')!.status, 'failed');
  assert.equal(failures.map((f) => f.actor), ['ledger/1']);
  assert.is(await rejectionCode(deposit(sup, 'good', 1)), 'ACTOR_FAILED');
  await sup.close();
});

test("a partition's crashes spread over more than the intensity window do not quarantine it", async () => {
  const { sup, clock, quarantines } = await start(await damagedStore(), { max: 1, withinMs: 30_000 });
  for (let i = 0; i < 4; i++) {
    assert.is(await rejectionCode(deposit(sup, 'bad', 1)), 'ACTOR_CRASHED', `crash ${i + 1} is a restart`);
    await clock.advance(31_000);
  }
  assert.equal(quarantines, []);
  assert.equal(sup.quarantined(), []);
  await sup.close();
});

test('an I/O that rejects is charged to the partition of the message that started it', async () => {
  const { sup, quarantines, failures } = await start(await damagedStore(), { max: 1, withinMs: 30_000 });
  for (let i = 0; i < 3; i++) {
    sup.post('ledger/1', { type: 'lookUp', account: 'bad' });
    await sup.idle();
  }
  sup.post('ledger/1', { type: 'lookUp', account: 'good' });
  await sup.idle();
  assert.equal(quarantines.map((q) => q.partition), ['bad'], 'the second crash within the window quarantined it');
  assert.equal(failures, []);
  assert.equal(sup.view<LedgerCtx>('ledger/1')!.ctx.reminded, ['looked up good']);
  await sup.close();
});

test('a crash inside a batch is charged to the message that threw: the messages around it are committed', async () => {
  const persistence = await damagedStore();
  const { sup } = await start(persistence, { max: 0, withinMs: 30_000 });
  // One turn: the four messages are handled as one batch.
  const answers = [deposit(sup, 'good', 1), deposit(sup, 'other', 1), deposit(sup, 'bad', 1), deposit(sup, 'good', 1)].map(rejectionCode);
  sup.post('ledger/1', { type: 'post', account: 'other', n: 5 });
  await sup.idle();
  assert.equal(await Promise.all(answers), [null, null, 'PICKUP_FAILED', null]);
  assert.equal(sup.quarantined().map((q) => q.partition), ['bad'], 'the partition of the message that threw, not the first of the batch');
  const stored = (await persistence.loadActors()).get('ledger/1')!;
  assert.equal((stored.ctx as LedgerCtx).balances, { good: 12, bad: '12,50', other: 7 });
  await sup.close();
});

test('a commit failing other than on storage is charged to the message whose state it could not write', async () => {
  const persistence = await damagedStore();
  // A store that cannot write a negative balance (a value its encoding refuses), failing the whole commit.
  const commit = persistence.commit.bind(persistence);
  persistence.commit = (batch: CommitBatch) => {
    batch.fill?.(); // the group is cut now: what it holds can be read
    const negative = (batch.actors ?? []).some((w) => 'record' in w && Object.values((w.record.ctx as LedgerCtx).balances).some((b) => typeof b === 'number' && b < 0));
    return negative ? Promise.reject(new Error('encoding refused a negative balance')) : commit(batch);
  };
  const { sup } = await start(persistence, { max: 0, withinMs: 30_000 });
  const answers = [deposit(sup, 'good', 1), deposit(sup, 'other', -5), deposit(sup, 'good', 1)].map(rejectionCode);
  await sup.idle();
  assert.equal(await Promise.all(answers), [null, 'PICKUP_FAILED', null]);
  assert.equal(sup.quarantined().map((q) => q.partition), ['other']);
  assert.equal(((await persistence.loadActors()).get('ledger/1')!.ctx as LedgerCtx).balances, { good: 12, bad: '12,50', other: 1 });
  await sup.close();
});

test('mail queued for a partition when it is quarantined is refused, not handled', async () => {
  const persistence = await damagedStore();
  const { sup } = await start(persistence, { max: 0, withinMs: 30_000 });
  // The ledger is busy committing a first deposit: the crash and the mail behind it queue in one
  // turn, so that mail is in the mailbox (not refused on arrival) when the partition is quarantined.
  const busy = deposit(sup, 'good', 1);
  const first = rejectionCode(deposit(sup, 'bad', 1));
  const queued = [rejectionCode(deposit(sup, 'bad', 1)), rejectionCode(deposit(sup, 'good', 1))];
  // A handler that would not crash: had it run, its timer would be committed.
  sup.post('ledger/1', { type: 'remindLater', account: 'bad', inMs: 60_000 });
  assert.is(sup.view('ledger/1')!.mailbox, 4, 'queued behind the busy commit');
  await sup.idle();
  assert.is(await busy, 11);
  assert.is(await first, 'PICKUP_FAILED');
  assert.equal(await Promise.all(queued), ['PICKUP_FAILED', null]);
  assert.equal((await persistence.loadActors()).get('ledger/1')!.timers, [], 'the queued remindLater was not handled');
  await sup.close();
});

test('the quarantine survives a restart, its timers are held (not delivered, not lost), and lifting it fires them', async () => {
  const persistence = await damagedStore();
  const clock = new SimulatedClock(1_000);
  const first = await start(persistence, { max: 0, withinMs: 30_000 }, clock);
  first.sup.post('ledger/1', { type: 'remindLater', account: 'bad', inMs: 60_000 });
  first.sup.post('ledger/1', { type: 'remindLater', account: 'good', inMs: 60_000 });
  await first.sup.idle();
  assert.is(await rejectionCode(deposit(first.sup, 'bad', 1)), 'PICKUP_FAILED');
  await first.sup.advanceClock(120_000);
  assert.equal(first.sup.view<LedgerCtx>('ledger/1')!.ctx.reminded, ['good'], "the quarantined partition's timer was not delivered");
  assert.is(first.sup.view('ledger/1')!.status, 'active');
  await first.sup.close();

  // A restart of the box: the quarantine comes back with the actor's record, and so does the held timer.
  const record = (await persistence.loadActors()).get('ledger/1')!;
  assert.equal(record.quarantined?.map((q) => q.partition), ['bad']);
  assert.equal(record.timers.map((t) => t.key), ['remind:bad']);
  const second = await start(persistence, { max: 0, withinMs: 30_000 }, clock);
  assert.equal(second.sup.quarantined().map((q) => [q.actor, q.partition]), [['ledger/1', 'bad']]);
  assert.equal(second.quarantines, [], 'restored, not raised again');
  await second.sup.advanceClock(1_000);
  assert.equal(second.sup.view<LedgerCtx>('ledger/1')!.ctx.reminded, ['good'], 'held again after the restart');
  assert.is(await rejectionCode(deposit(second.sup, 'bad', 1)), 'PICKUP_FAILED');
  assert.is(await deposit(second.sup, 'good', 1), 11);

  // Lifted (after repair, here the damaged balance stays: the held timer trips on it again, and
  // with intensity 0 the partition is quarantined again, showing the timer did fire).
  assert.is(await second.sup.lift('ledger/1', 'bad'), true);
  assert.is(await second.sup.lift('ledger/1', 'bad'), false, 'once');
  await second.sup.advanceClock(0);
  await second.sup.idle();
  assert.equal(second.quarantines.map((q) => q.partition), ['bad'], 'the held timer fired once lifted');
  assert.ok(second.events.some((e) => e.type === 'partition.lifted' && e.partition === 'bad'));
  await second.sup.close();
});

test.run();
