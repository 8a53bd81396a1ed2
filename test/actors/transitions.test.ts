import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compartmentActor, type CompartmentCtx } from '../../actors/compartment.js';
import { readerActor, type ReaderCtx } from '../../actors/reader.js';
import { shredderActor, type ShredderCtx } from '../../actors/shredder.js';
import { sessionActor, type SessionCtx } from '../../actors/session.js';
import { SimulatedCardReader, SimulatedShredder } from '../../drivers/sim/devices.js';

// Each actor's handlers are pure: store.transition gives the next context and the effects,
// and nothing runs. These tests pin the state machines of DESIGN.md.

const compartment = compartmentActor({ doorWindowMs: 30_000, doorLeftOpenMs: 60_000 }, { pulse: async () => {}, door: async () => 'closed' });
const free: CompartmentCtx = compartment.init({ id: 'A07', size: 'S', accessible: false }, 'compartment/A07');
const staff = { kind: 'staff' as const, staffId: 'anna' };

const types = (effects: { type: string }[]) => effects.map((e) => e.type);

test('compartment: an unlock commits the intent, then pulses the lock', () => {
  const { ctx, effects } = compartment.step(free, { type: 'unlock', opId: 'op1', purpose: 'load', pickupId: 'P1', cause: staff, now: 1 });
  assert.is(ctx.state, 'unlocking');
  assert.is(ctx.op?.id, 'op1');
  assert.equal(types(effects), ['audit', 'io']);
  assert.equal((effects[1] as { op: unknown }).op, { kind: 'pulse', opId: 'op1', compartment: 'A07' });
});

test('compartment: after the pulse the door has 30 s; opening and closing it loads the pickup', () => {
  let { ctx } = compartment.step(free, { type: 'unlock', opId: 'op1', purpose: 'load', pickupId: 'P1', cause: staff, now: 0 });
  const pulsed = compartment.step(ctx, { type: 'pulse.done', opId: 'op1', now: 100 });
  assert.ok(pulsed.effects.some((e) => e.type === 'schedule' && e.at === 30_100));
  ctx = compartment.step(pulsed.ctx, { type: 'door.changed', door: 'open', now: 5_000 }).ctx;
  assert.is(ctx.state, 'open');
  const closed = compartment.step(ctx, { type: 'door.changed', door: 'closed', now: 9_000 });
  assert.is(closed.ctx.state, 'occupied');
  assert.is(closed.ctx.pickupId, 'P1');
  assert.ok(closed.effects.some((e) => e.type === 'send' && e.message.type === 'compartment.closed'));
});

test('compartment: a door opened without an unlock is a forced-open fault with an alarm', () => {
  const { ctx, effects } = compartment.step(free, { type: 'door.changed', door: 'open', now: 1 });
  assert.is(ctx.state, 'fault');
  assert.is(ctx.fault?.code, 'DOOR_FORCED');
  assert.ok(effects.some((e) => e.type === 'send' && e.message.type === 'alarm.raise'));
});

test('compartment: a failed pulse puts it in fault and tells the registry', () => {
  const { ctx } = compartment.step(free, { type: 'unlock', opId: 'op1', purpose: 'load', pickupId: 'P1', cause: staff, now: 0 });
  const failed = compartment.step(ctx, { type: 'pulse.failed', opId: 'op1', code: 'I2C_NACK', now: 1 });
  assert.is(failed.ctx.state, 'fault');
  assert.ok(failed.effects.some((e) => e.type === 'send' && e.message.type === 'compartment.unlockFailed'));
});

test('compartment: an unlock of a busy compartment is refused without a pulse', () => {
  const { ctx, effects } = compartment.step(free, { type: 'unlock', opId: 'op1', purpose: 'collect', pickupId: 'P1', cause: staff, now: 0 });
  assert.is(ctx, free);
  assert.not.ok(effects.some((e) => e.type === 'io'));
});

test('compartment: after a restart an intent without a pulse result and a shut door goes to staff, never a second pulse', () => {
  const { ctx } = compartment.step(free, { type: 'unlock', opId: 'op1', purpose: 'load', pickupId: 'P1', cause: staff, now: 0 });
  const rec = compartment.step(ctx, { type: 'door.reconciled', door: 'closed', now: 10 });
  assert.is(rec.ctx.state, 'fault');
  assert.is(rec.ctx.fault?.code, 'UNLOCK_INTERRUPTED');
  assert.not.ok(rec.effects.some((e) => e.type === 'io'));
});

test("compartment: while reports the failed pickup's actor refused are kept, a new one to it is kept behind them, and the revived pickup hears them in order", () => {
  let { ctx } = compartment.step(free, { type: 'unlock', opId: 'op1', purpose: 'load', pickupId: 'P1', cause: staff, now: 0 });
  ctx = compartment.step(ctx, { type: 'pulse.done', opId: 'op1', now: 100 }).ctx;
  const opened = compartment.step(ctx, { type: 'door.changed', door: 'open', now: 5_000 });
  const report = opened.effects.find((e) => e.type === 'send' && e.message.type === 'compartment.opened') as { to: string; message: Record<string, unknown> };
  assert.is(report.to, 'pickup/P1', "the opening goes to the pickup's own actor");
  // The pickup's actor had failed for good: the opening comes back, and is kept.
  ctx = compartment.step(opened.ctx, { type: 'delivery.failed', to: 'pickup/P1', messageType: 'compartment.opened', message: report.message, now: 5_001 }).ctx;
  assert.is(ctx.unsent?.length, 1);
  // The door closes before the compartment hears that the pickup was revived (`delivery.resumed`
  // is queued behind it): the closing must not reach the pickup before the opening.
  const closed = compartment.step(ctx, { type: 'door.changed', door: 'closed', now: 9_000 });
  assert.is(closed.ctx.state, 'occupied');
  assert.not.ok(closed.effects.some((e) => e.type === 'send' && e.to === 'pickup/P1'), 'not sent ahead of the kept opening');
  assert.equal(closed.ctx.unsent?.map((m) => m.type), ['compartment.opened', 'compartment.closed']);
  // A report to another pickup is not held behind them.
  const another = compartment.step(closed.ctx, { type: 'unlock', opId: 'op9', purpose: 'load', pickupId: 'P2', cause: staff, now: 9_000 });
  assert.ok(another.effects.some((e) => e.type === 'send' && e.to === 'pickup/P2' && e.message.type === 'compartment.unlockFailed'), 'told at once');
  assert.equal(another.ctx.unsent?.length, 2, "P1's reports stay kept");
  // Another actor's revival tells nothing of these, nor the registry's (they are pickup/P1's).
  for (const to of ['pickup/P2', 'registry']) {
    const other = compartment.step(closed.ctx, { type: 'delivery.resumed', to, now: 9_001 });
    assert.not.ok(other.effects.some((e) => e.type === 'send'), `kept for pickup/P1, not told on ${to}'s revival`);
    assert.equal(other.ctx.unsent?.length, 2);
  }
  const resumed = compartment.step(closed.ctx, { type: 'delivery.resumed', to: 'pickup/P1', now: 9_001 });
  assert.equal(resumed.effects.filter((e) => e.type === 'send' && e.to === 'pickup/P1').map((e) => (e as { message: { type: string } }).message.type), ['compartment.opened', 'compartment.closed']);
  assert.is(resumed.ctx.unsent, undefined);
  // Nothing kept: reports go at once again.
  const next = compartment.step(resumed.ctx, { type: 'unlock', opId: 'op2', purpose: 'load', pickupId: 'P2', cause: staff, now: 10_000 });
  assert.ok(next.effects.some((e) => e.type === 'send' && e.to === 'pickup/P2' && e.message.type === 'compartment.unlockFailed'), 'a busy compartment refuses at once');
});

test('compartment: a report for a pickup an earlier version registered, refused by the failed registry it fell back to, is kept and told again once the registry is revived', () => {
  let { ctx } = compartment.step(free, { type: 'unlock', opId: 'op1', purpose: 'load', pickupId: 'P5', cause: staff, now: 0 });
  ctx = compartment.step(ctx, { type: 'pulse.done', opId: 'op1', now: 100 }).ctx;
  const opened = compartment.step(ctx, { type: 'door.changed', door: 'open', now: 5_000 });
  const report = opened.effects.find((e) => e.type === 'send' && e.message.type === 'compartment.opened') as { to: string; message: Record<string, unknown> };
  assert.is(report.to, 'pickup/P5');
  // P5 has no actor: the supervisor passed the opening to the registry, which had failed for good.
  ctx = compartment.step(opened.ctx, { type: 'delivery.failed', to: 'registry', messageType: 'compartment.opened', message: report.message, now: 5_001 }).ctx;
  assert.equal(ctx.unsent?.map((m) => m.type), ['compartment.opened'], 'kept');
  const closed = compartment.step(ctx, { type: 'door.changed', door: 'closed', now: 9_000 });
  assert.not.ok(closed.effects.some((e) => e.type === 'send' && e.to === 'pickup/P5'), 'the closing is kept behind the opening');
  assert.equal(closed.ctx.unsent?.map((m) => m.type), ['compartment.opened', 'compartment.closed'], 'the closing waits behind it, for the registry too');
  const resumed = compartment.step(closed.ctx, { type: 'delivery.resumed', to: 'registry', now: 9_001 });
  const told = resumed.effects.filter((e) => e.type === 'send' && e.to === 'pickup/P5') as Array<{ message: Record<string, unknown> }>;
  assert.equal(told.map((e) => e.message.type), ['compartment.opened', 'compartment.closed']);
  assert.not.ok(told.some((e) => 'viaRegistry' in e.message), 'the mark stays with the compartment');
  assert.is(resumed.ctx.unsent, undefined);
});

test('compartment: out of service and back', () => {
  const out = compartment.step(free, { type: 'service.set', inService: false, by: 'anna', reason: 'hinge', now: 1 });
  assert.is(out.ctx.state, 'outOfService');
  assert.is(compartment.step(out.ctx, { type: 'service.set', inService: true, by: 'anna', reason: '', now: 2 }).ctx.state, 'free');
});

const shredderPort = new SimulatedShredder();
const reader = readerActor(new SimulatedCardReader(shredderPort));
const idleReader: ReaderCtx = reader.init(undefined, 'reader/1');

test('reader: accepting → reading → verified → transferring on a match', () => {
  let ctx = reader.step(idleReader, { type: 'accept', sessionId: 's1', now: 0 }).ctx;
  assert.is(ctx.state, 'accepting');
  ctx = reader.step(ctx, { type: 'card.inserted', now: 1 }).ctx;
  assert.is(ctx.state, 'reading');
  const read = reader.step(ctx, { type: 'read.done', mrz: ['x'], now: 2 });
  assert.is(read.ctx.state, 'verified');
  assert.ok(read.effects.some((e) => e.type === 'send' && e.message.type === 'card.read'));
  const verdict = reader.step(read.ctx, { type: 'verdict', sessionId: 's1', accepted: true, documentNumber: 'L01X00T47', now: 3 });
  assert.is(verdict.ctx.state, 'transferring');
  assert.is(verdict.ctx.mrz, null, 'the card data is dropped once decided');
});

test('reader: a rejected card is ejected', () => {
  let ctx = reader.step(idleReader, { type: 'accept', sessionId: 's1', now: 0 }).ctx;
  ctx = reader.step(ctx, { type: 'card.inserted', now: 1 }).ctx;
  ctx = reader.step(ctx, { type: 'read.done', mrz: ['x'], now: 2 }).ctx;
  assert.is(reader.step(ctx, { type: 'verdict', sessionId: 's1', accepted: false, documentNumber: null, now: 3 }).ctx.state, 'ejecting');
});

test('reader: a card pushed in when not asked for is given back', () => {
  const { ctx, effects } = reader.step(idleReader, { type: 'card.inserted', now: 0 });
  assert.is(ctx.state, 'ejecting');
  assert.ok(effects.some((e) => e.type === 'io' && (e.op as { kind: string }).kind === 'eject'));
});

test('reader: with the shredder unavailable the slot closes and sessions are told', () => {
  const accepting = reader.step(idleReader, { type: 'accept', sessionId: 's1', now: 0 }).ctx;
  const { ctx, effects } = reader.step(accepting, { type: 'shredder.status', available: false, now: 1 });
  assert.is(ctx.state, 'disabled');
  assert.ok(effects.some((e) => e.type === 'send' && e.message.type === 'card.unavailable'));
});

// The number is kept only as a keyed hash; a readable stand-in here shows which card it was.
const shredder = shredderActor(shredderPort, (n) => `tag(${n})`);
const idleShredder: ShredderCtx = shredder.init(undefined, 'shredder/1');

test('shredder: idle → shredding → idle with the destruction audited', () => {
  const s = shredder.step(idleShredder, { type: 'shred', sessionId: 's1', documentNumber: 'L01X00T47', now: 0 }).ctx;
  assert.is(s.state, 'shredding');
  const done = shredder.step(s, { type: 'shred.done', binFree: 10, now: 1 });
  assert.is(done.ctx.state, 'idle');
  assert.ok(done.effects.some((e) => e.type === 'audit' && e.entry.action === 'oldId.destroyed' && e.entry.subject === 'tag(L01X00T47)'));
});

test('shredder: a jam keeps the card on record and makes the reader stop taking cards', () => {
  const s = shredder.step(idleShredder, { type: 'shred', sessionId: 's1', documentNumber: 'L01X00T47', now: 0 }).ctx;
  const jam = shredder.step(s, { type: 'shred.failed', code: 'SHREDDER_JAM', binFree: 10, now: 1 });
  assert.is(jam.ctx.state, 'jammed');
  assert.equal(jam.ctx.retained, ['tag(L01X00T47)']);
  assert.ok(jam.effects.some((e) => e.type === 'send' && e.to === 'reader/1' && e.message.type === 'shredder.status'));
});

test('shredder: a full bin after a shred stops further cards', () => {
  const s = shredder.step(idleShredder, { type: 'shred', sessionId: 's1', documentNumber: 'L01X00T47', now: 0 }).ctx;
  assert.is(shredder.step(s, { type: 'shred.done', binFree: 0, now: 1 }).ctx.state, 'binFull');
});

const session = sessionActor({ inactivityMs: 60_000, lingerMs: 5_000, maxPinRejections: 3, timeZone: 'Europe/Berlin' });
const fresh: SessionCtx = session.init({ id: 'k1-1', kioskId: '1' }, 'session/k1-1');

test('session: phone → pin → checking, with an invalid number kept at the phone step', () => {
  const bad = session.step(fresh, { type: 'input.phone', phone: '030 1234', now: 0 }).ctx;
  assert.is(bad.step, 'phone');
  assert.ok(bad.error === 'NOT_A_MOBILE' || bad.error === 'INVALID_PHONE');
  const pin = session.step(fresh, { type: 'input.phone', phone: '0152 28817386', now: 0 }).ctx;
  assert.is(pin.step, 'pin');
  assert.is(pin.phone, '+4915228817386');
  const checking = session.step(pin, { type: 'input.pin', pin: '123456', now: 1 });
  assert.is(checking.ctx.step, 'checkingPin');
  assert.ok(checking.effects.some((e) => e.type === 'send' && e.message.type === 'auth.pin'));
});

test('session: every published view carries a higher revision than the one before', () => {
  const started = session.step(fresh, { type: 'started', now: 0 });
  const pin = session.step(started.ctx, { type: 'input.phone', phone: '0152 28817386', now: 1 });
  const checking = session.step(pin.ctx, { type: 'input.pin', pin: '123456', now: 2 });
  const published = [started, pin, checking].flatMap((r) => r.effects.filter((e) => e.type === 'publish').map((e) => (e as { event: unknown }).event as { revision: number; step: string }));
  assert.equal(published.map((v) => [v.step, v.revision]), [['phone', 1], ['pin', 2], ['checkingPin', 3]]);
});

test('session: 20 s before the time limit it warns; one extend restarts the limit with its warning', () => {
  const started = session.step(fresh, { type: 'started', now: 0 });
  assert.equal(started.effects.filter((e) => e.type === 'schedule'), [
    { type: 'schedule', key: 'timeout', at: 60_000, message: { type: 'timeout' } },
    { type: 'schedule', key: 'warning', at: 40_000, message: { type: 'timeout.warning' } },
  ]);
  const warned = session.step(started.ctx, { type: 'timeout.warning', now: 40_000 });
  const view = { type: 'session.changed', sessionId: 'k1-1', kioskId: '1', step: 'phone', error: null, retryAt: null, oldIdPossible: false, compartmentId: null, outcome: null, headphones: false, pinRequested: false };
  assert.equal(warned.effects, [{ type: 'publish', event: { ...view, revision: 2, expiresAt: 60_000, warning: true, extensionsLeft: 10 } }]);
  const extended = session.step(warned.ctx, { type: 'input.extend', requestId: 'r1', replyTo: 'replies', now: 41_000 });
  const { type: _t, sessionId: _s, ...answer } = { ...view, id: 'k1-1', revision: 3, expiresAt: 101_000, warning: false, extensionsLeft: 9 };
  assert.equal(extended.effects, [
    { type: 'audit', entry: { action: 'session.extended', actor: 'kiosk/1', subject: 'k1-1', detail: { left: 9 } } },
    { type: 'schedule', key: 'timeout', at: 101_000, message: { type: 'timeout' } },
    { type: 'schedule', key: 'warning', at: 81_000, message: { type: 'timeout.warning' } },
    { type: 'publish', event: { ...view, revision: 3, expiresAt: 101_000, warning: false, extensionsLeft: 9 } },
    { type: 'send', to: 'replies', message: { type: 'reply', requestId: 'r1', ok: true, value: answer } },
  ]);
});

test('session: with no extension left, extend changes nothing and the timeout ends the session', () => {
  const warned: SessionCtx = { ...fresh, expiresAt: 60_000, warning: true, extensionsLeft: 0 };
  const asked = session.step(warned, { type: 'input.extend', requestId: 'r1', replyTo: 'replies', now: 41_000 });
  assert.is(asked.ctx.expiresAt, 60_000);
  assert.not.ok(asked.effects.some((e) => e.type === 'schedule'), 'the limit stays');
  const over = session.step(asked.ctx, { type: 'timeout', now: 60_000 }).ctx;
  assert.equal([over.step, over.outcome, over.error, over.warning], ['done', 'timeout', 'SESSION_TIMEOUT', false]);
});

test('session: a malformed PIN is refused locally and costs no attempt', () => {
  const pin = session.step(fresh, { type: 'input.phone', phone: '0152 28817386', now: 0 }).ctx;
  const { ctx, effects } = session.step(pin, { type: 'input.pin', pin: '12a4', now: 1 });
  assert.is(ctx.error, 'INVALID_PIN_FORMAT');
  assert.not.ok(effects.some((e) => e.type === 'send'));
});

test('session: the third rejection ends the session', () => {
  let ctx: SessionCtx = { ...fresh, step: 'checkingPin', pinRejections: 2, phone: '+4915228817386' };
  ctx = session.step(ctx, { type: 'auth.rejected', retryAt: null, now: 0 }).ctx;
  assert.is(ctx.step, 'done');
  assert.is(ctx.outcome, 'failed');
  assert.is(ctx.phone, null, 'the number is dropped');
});

test('session: the card slot unavailable falls back to the birth date', () => {
  const ctx = session.step({ ...fresh, step: 'card' }, { type: 'card.unavailable', now: 0 }).ctx;
  assert.is(ctx.step, 'birthDate');
});

test('session: a restart mid-flow ends the session safely and releases the pickup', () => {
  const { ctx, effects } = session.step({ ...fresh, step: 'factor' }, { type: 'recovered', now: 0 });
  assert.is(ctx.outcome, 'interrupted');
  // Through the auth actor, which passes it on to the registry behind any PIN match of the session.
  assert.ok(effects.some((e) => e.type === 'send' && e.message.type === 'session.ended' && e.to === 'auth'));
});

test('kiosk: a session that failed for good frees the panel', async () => {
  const { kioskActor } = await import('../../actors/kiosk.js');
  const { ALWAYS_OPEN } = await import('../../actors/domain/hours.js');
  const kiosk = kioskActor(ALWAYS_OPEN);
  const busy = { id: '1', seq: 1, active: '1-1' };
  assert.is(kiosk.step(busy, { type: 'actor.escalated', actor: 'session/1-1', kind: 'session', code: 'ACTOR_CRASHED' }).ctx.active, null);
  assert.is(kiosk.step(busy, { type: 'actor.escalated', actor: 'session/9-9', kind: 'session', code: 'ACTOR_CRASHED' }).ctx.active, '1-1');
});

test.run();
