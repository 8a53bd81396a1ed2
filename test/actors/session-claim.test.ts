import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RegistryCtx } from '../../actors/registry.js';
import type { Pickup } from '../../actors/pickup.js';
import { sessionActor, type SessionCtx } from '../../actors/session.js';
import { authUnderTest, pickupUnderTest, registryUnderTest, TEST_POLICY } from '../security/registry-rig.js';

// A session names the pickup its PIN opened in what it tells it (second factor, release), which
// goes to that pickup's own actor (`pickup/<id>`), and the claim is checked on that very pickup; a
// session whose PIN opened nothing ends without any pickup hearing of it; a compartment's refused
// unlock names its pickup too. A pickup an earlier version registered is a row of the registry's
// table, which checks the claim on the row the message names the same way (and, for a session of an
// earlier version that names none, on the one the session holds a claim on).

const session = sessionActor({ inactivityMs: 60_000, lingerMs: 5_000, maxPinRejections: 3, timeZone: 'Europe/Berlin' });
const fresh: SessionCtx = session.init({ id: 's1', kioskId: '1' }, 'session/s1');
const registry = registryUnderTest();
const pickup = pickupUnderTest();
const auth = authUnderTest();

type Effects = ReturnType<typeof session.step>['effects'];
const sentTo = (effects: Effects, to: string) => effects.flatMap((e) => (e.type === 'send' && e.to === to ? [e.message as { type: string } & Record<string, unknown>] : []));

/** A session at the PIN step that sent its PIN for checking. */
function checkingPin(): SessionCtx {
  let ctx = session.step(fresh, { type: 'input.phone', phone: '0152 28817386', now: 0 }).ctx;
  ctx = session.step(ctx, { type: 'input.pin', pin: '123456', now: 1 }).ctx;
  assert.is(ctx.step, 'checkingPin');
  return ctx;
}

/** `id` READY in `compartmentId`, claimed by `sessionId`: its own actor's row. */
const claimedRow = (id: string, sessionId: string, compartmentId: string): Pickup => ({
  id, reference: `V-${id}`, documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'READY',
  phone: '+4915228817386', birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: true,
  pinQueued: true, compartmentId, failedAttempts: 0, claim: { sessionId, until: 60_000, factor: null }, opId: null,
  createdAt: 0, updatedAt: 0, readyAt: 0, expiresAt: TEST_POLICY.windowMs, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
});
/** P1 and P2 READY in A01 and A02, each an actor of its own; P1 claimed by session s1, P2 by s2. */
const P1 = claimedRow('P1', 's1', 'A01');
const P2 = claimedRow('P2', 's2', 'A02');

/** The same two as rows of the registry's table (registered by an earlier version). */
function twoClaimed(): RegistryCtx {
  const ctx = registry.init(undefined, 'registry');
  for (const row of [P1, P2]) {
    ctx.pickups[row.id] = row;
    ctx.byReference[row.reference] = row.id;
  }
  return { ...ctx, seq: 2 };
}

test('session: the pickup its PIN opened is named in the birth date and the release it sends', () => {
  const accepted = session.step(checkingPin(), { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: false, pickupId: 'P1', now: 2 });
  assert.is(accepted.ctx.step, 'birthDate');
  // (The birth date is checked against the day: a session on 23 Nov 2026.)
  const checking = session.step(accepted.ctx, { type: 'input.birthDate', birthDate: '1980-04-12', now: Date.UTC(2026, 10, 23) });
  assert.equal(sentTo(checking.effects, 'pickup/P1'), [{ type: 'auth.birthDate', sessionId: 's1', birthDate: '1980-04-12', pickupId: 'P1' }]);
  assert.equal(sentTo(checking.effects, 'registry'), [], 'not to the registry');
  const releasing = session.step(checking.ctx, { type: 'auth.factorAccepted', factor: 'birthDate', documentNumber: null, now: 4 });
  assert.equal(sentTo(releasing.effects, 'pickup/P1'), [{ type: 'pickup.release', sessionId: 's1', pickupId: 'P1' }]);
  // Ended now (the door could not open): the pickup may hold a claim for it, so the end goes on (through the auth actor) to the pickup it names.
  const ended = session.step(releasing.ctx, { type: 'release.failed', code: 'DEVICE_UNAVAILABLE', now: 5 });
  assert.equal(sentTo(ended.effects, 'auth'), [{ type: 'session.ended', sessionId: 's1', claim: true, pickupId: 'P1' }]);
});

test('session: an end with a PIN still being checked may leave a claim; one after a wrong PIN or none leaves none', () => {
  assert.equal(sentTo(session.step(checkingPin(), { type: 'timeout', now: 60_001 }).effects, 'auth'), [{ type: 'session.ended', sessionId: 's1', claim: true }]);
  const rejected = session.step(checkingPin(), { type: 'auth.rejected', retryAt: null, now: 2 }).ctx;
  assert.is(rejected.step, 'phone');
  assert.equal(sentTo(session.step(rejected, { type: 'input.cancel', now: 3 }).effects, 'auth'), [{ type: 'session.ended', sessionId: 's1', claim: false }]);
  assert.equal(sentTo(session.step(fresh, { type: 'input.cancel', now: 3 }).effects, 'auth'), [{ type: 'session.ended', sessionId: 's1', claim: false }]);
});

test("auth: passes a session's end on to the pickup the session names, or (a PIN still being checked) to the registry, which finds a claim on a row of its table; nothing when its PIN opened nothing", () => {
  const ctx = auth.init(undefined, 'auth');
  const passed = (e: { claim?: boolean; pickupId?: string }) => {
    const effects = auth.step(ctx, { type: 'session.ended', sessionId: 's1', ...e, now: 1 }).effects as Effects;
    return effects.flatMap((f) => (f.type === 'send' ? [[f.to, f.message]] : []));
  };
  assert.equal(passed({ claim: true, pickupId: 'P1' }), [['pickup/P1', { type: 'session.ended', sessionId: 's1', pickupId: 'P1' }]], "to the pickup's own actor");
  // (A pickup of its own that matches the PIN after this end gives its claim back on the session's word: see below.)
  assert.equal(passed({ claim: true }), [['registry', { type: 'session.ended', sessionId: 's1' }]], 'the registry finds the pickup of its table it holds a claim on');
  assert.equal(passed({}), [['registry', { type: 'session.ended', sessionId: 's1' }]], 'an earlier version\'s session: the same');
  assert.equal(passed({ claim: false }), [], 'its PIN opened nothing');
});

test('session: a match that comes after the session ended (its PIN was being checked) is given back to the pickup at once', () => {
  const ended = session.step(checkingPin(), { type: 'timeout', now: 60_001 }).ctx;
  assert.is(ended.step, 'done');
  const late = session.step(ended, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: false, pickupId: 'P1', now: 60_002 });
  assert.equal(sentTo(late.effects, 'pickup/P1'), [{ type: 'session.ended', sessionId: 's1', pickupId: 'P1' }]);
  assert.is(late.ctx.step, 'done', 'still over');
});

test('session: ended with its PIN being checked, it outlasts its final screen until the answer comes, then goes', () => {
  const kinds = (effects: Effects) => effects.map((e) => e.type);
  const ended = session.step(checkingPin(), { type: 'timeout', now: 60_001 }).ctx;
  // The final screen is over, the answer is not in: it stays, for as long as a claim lasts at most.
  const lingering = session.step(ended, { type: 'linger.over', now: 65_001 });
  assert.not.ok(kinds(lingering.effects).includes('stop'), 'not gone yet');
  assert.equal(lingering.effects.filter((e) => e.type === 'schedule').map((e) => (e as { at: number }).at), [65_001 + 5 * 60_000]);
  // A match 70 s after its end: given back, and the session goes.
  const late = session.step(lingering.ctx, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: false, pickupId: 'P1', now: 130_001 });
  assert.equal(sentTo(late.effects, 'pickup/P1'), [{ type: 'session.ended', sessionId: 's1', pickupId: 'P1' }]);
  assert.ok(kinds(late.effects).includes('stop'));
  // A refusal as the answer: nothing to give back, it goes all the same.
  assert.ok(kinds(session.step(lingering.ctx, { type: 'auth.rejected', retryAt: null, now: 70_000 }).effects).includes('stop'));
  // No answer ever: it goes when the claim would have lapsed.
  assert.ok(kinds(session.step(lingering.ctx, { type: 'linger.over', now: 365_001 }).effects).includes('stop'));
  // The answer before the final screen is over: it goes with the screen, as any session.
  const answered = session.step(ended, { type: 'auth.busy', now: 60_500 }).ctx;
  assert.ok(kinds(session.step(answered, { type: 'linger.over', now: 65_001 }).effects).includes('stop'));
  // Ended by the answer itself (the pickup busy): nothing outstanding.
  const busy = session.step(checkingPin(), { type: 'auth.busy', now: 2 }).ctx;
  assert.is(busy.step, 'done');
  assert.ok(kinds(session.step(busy, { type: 'linger.over', now: 5_002 }).effects).includes('stop'));
});

test('session: ended after its answer came (waiting a moment for the card reader) or after its PIN came back unchecked, it goes with its final screen', () => {
  const gone = (ctx: SessionCtx) => session.step(ctx, { type: 'linger.over', now: 70_000 }).effects.some((e) => e.type === 'stop');
  // The PIN was accepted; the session waits a moment for the reader's answer (still checkingPin), and the citizen cancels.
  const waiting = session.step(checkingPin(), { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: true, pickupId: 'P1', now: 2 }).ctx;
  assert.is(waiting.step, 'checkingPin');
  const cancelled = session.step(waiting, { type: 'input.cancel', now: 3 });
  assert.equal(sentTo(cancelled.effects, 'auth'), [{ type: 'session.ended', sessionId: 's1', claim: true, pickupId: 'P1' }], 'the claim goes back with the end');
  assert.ok(gone(cancelled.ctx), 'nothing to wait for');
  // The PIN came back from a failed auth actor: no answer will come; the session times out and goes.
  const bounced = session.step(checkingPin(), { type: 'delivery.failed', to: 'auth', messageType: 'auth.pin', now: 2 }).ctx;
  assert.ok(gone(session.step(bounced, { type: 'timeout', now: 60_001 }).ctx));
  // (Without either, it waits: the check above is what lets it go.)
  assert.not.ok(gone(session.step(checkingPin(), { type: 'timeout', now: 60_001 }).ctx));
  // A late "wait" (throttled) is an answer too.
  const lingering = session.step(session.step(checkingPin(), { type: 'timeout', now: 60_001 }).ctx, { type: 'linger.over', now: 65_001 }).ctx;
  assert.ok(session.step(lingering, { type: 'auth.throttled', retryAt: 70_000, now: 66_000 }).effects.some((e) => e.type === 'stop'));
});

test("pickup: a session's end voids that session's claim on it, and no other session's", () => {
  const ended = pickup.step(P1, { type: 'session.ended', sessionId: 's1', pickupId: 'P1', now: 1_000 });
  assert.is(ended.ctx.claim, null);
  assert.is(pickup.step(P2, { type: 'session.ended', sessionId: 's1', pickupId: 'P2', now: 1_000 }).ctx, P2, "P2 is s2's: untouched");
});

test('pickup: a second factor or release is checked against the claim on it: a session holding none is refused, nothing counted', () => {
  // s1 sends to P2, claimed by s2: refused, nothing counted on P2.
  const wrong = pickup.step(P2, { type: 'auth.birthDate', sessionId: 's1', birthDate: '1980-04-12', pickupId: 'P2', now: 1_000 });
  assert.equal(sentTo(wrong.effects as Effects, 'session/s1'), [{ type: 'auth.factorRejected', factor: 'birthDate', locked: false, code: 'SESSION_NOT_FOUND' }]);
  assert.is(wrong.ctx.failedAttempts, 0);
  assert.is(wrong.ctx.claim?.factor, null);
  // s1 sends to P1: accepted on P1.
  const right = pickup.step(P1, { type: 'auth.birthDate', sessionId: 's1', birthDate: '1980-04-12', pickupId: 'P1', now: 1_000 });
  assert.equal(sentTo(right.effects as Effects, 'session/s1'), [{ type: 'auth.factorAccepted', factor: 'birthDate', documentNumber: null }]);
  assert.is(right.ctx.claim?.factor, 'birthDate');
  // A release from another session opens nothing.
  const release = pickup.step(right.ctx, { type: 'pickup.release', sessionId: 's2', pickupId: 'P1', now: 1_001 });
  assert.equal(sentTo(release.effects as Effects, 'session/s2'), [{ type: 'release.failed', code: 'AUTH_FAILED' }]);
  assert.is(release.ctx.status, 'READY');
});

test('pickup: a PIN match tells the session which pickup it opened', () => {
  const { effects } = pickup.step({ ...P1, claim: null }, { type: 'pin.matched', sessionId: 's3', kioskId: '1', pickupId: 'P1', serial: 1, now: 1_000 });
  assert.equal(sentTo(effects as Effects, 'session/s3'), [{ type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: false, pickupId: 'P1' }]);
});

test('pickup: a refused unlock names it; one of an earlier op of it changes nothing', () => {
  const releasing: Pickup = { ...P1, status: 'RELEASING', opId: 'op-2', claim: { sessionId: 's1', until: 60_000, factor: 'birthDate' }, unlockSent: true };
  const stale = pickup.step(releasing, { type: 'compartment.unlockFailed', compartmentId: 'A01', opId: 'op-1', purpose: 'collect', pickupId: 'P1', code: 'LOCK_FAILED', now: 1_000 });
  assert.is(stale.ctx, releasing, 'nothing changed');
  const refused = pickup.step(releasing, { type: 'compartment.unlockFailed', compartmentId: 'A01', opId: 'op-2', purpose: 'collect', pickupId: 'P1', code: 'LOCK_FAILED', now: 1_000 });
  assert.is(refused.ctx.status, 'READY', 'the door never opened: nothing used up');
  assert.equal(sentTo(refused.effects as Effects, 'session/s1'), [{ type: 'release.failed', code: 'DEVICE_UNAVAILABLE' }]);
});

test("registry: a session's end voids its claim on the row of its table it names, and on no other", () => {
  const ctx = twoClaimed();
  const ended = registry.step(ctx, { type: 'session.ended', sessionId: 's1', pickupId: 'P1', now: 1_000 });
  assert.is(ended.ctx.pickups.P1!.claim, null);
  assert.is(ended.ctx.pickups.P2!.claim?.sessionId, 's2');
  assert.is(registry.step(ctx, { type: 'session.ended', sessionId: 's1', pickupId: 'P2', now: 1_000 }).ctx, ctx, "P2 is s2's: untouched");
  assert.is(registry.partitionOf!(ctx, { type: 'session.ended', sessionId: 's1', pickupId: 'P2' }), 'P2');
  // Naming none (an earlier version's): the pickups it holds a claim on.
  assert.is(registry.step(ctx, { type: 'session.ended', sessionId: 's2', now: 1_000 }).ctx.pickups.P2!.claim, null);
});

test('registry: a second factor or release naming a row of its table checks the claim on that row, not any other', () => {
  const ctx = twoClaimed();
  // s1 names P2, claimed by s2: refused, nothing counted on P2.
  const wrong = registry.step(ctx, { type: 'auth.birthDate', sessionId: 's1', birthDate: '1980-04-12', pickupId: 'P2', now: 1_000 });
  assert.equal(sentTo(wrong.effects as Effects, 'session/s1'), [{ type: 'auth.factorRejected', factor: 'birthDate', locked: false, code: 'SESSION_NOT_FOUND' }]);
  assert.is(wrong.ctx.pickups.P2!.failedAttempts, 0);
  assert.is(wrong.ctx.pickups.P2!.claim?.factor, null);
  // s1 names P1: accepted on P1.
  const right = registry.step(ctx, { type: 'auth.birthDate', sessionId: 's1', birthDate: '1980-04-12', pickupId: 'P1', now: 1_000 });
  assert.equal(sentTo(right.effects as Effects, 'session/s1'), [{ type: 'auth.factorAccepted', factor: 'birthDate', documentNumber: null }]);
  assert.is(right.ctx.pickups.P1!.claim?.factor, 'birthDate');
  // Naming no pickup (a session of an earlier version): the one it holds a claim on.
  const unnamed = registry.step(ctx, { type: 'auth.birthDate', sessionId: 's2', birthDate: '1980-04-12', now: 1_000 });
  assert.is(unnamed.ctx.pickups.P2!.claim?.factor, 'birthDate');
  // A release naming another session's pickup opens nothing.
  const release = registry.step(right.ctx, { type: 'pickup.release', sessionId: 's2', pickupId: 'P1', now: 1_001 });
  assert.equal(sentTo(release.effects as Effects, 'session/s2'), [{ type: 'release.failed', code: 'AUTH_FAILED' }]);
  assert.is(release.ctx.pickups.P1!.status, 'READY');
  // The pickup a message names is its partition.
  assert.is(registry.partitionOf!(ctx, { type: 'pickup.release', sessionId: 'gone', pickupId: 'P2' }), 'P2');
});

test('registry: a PIN match on a row of its table tells the session which pickup it opened', () => {
  const ctx = twoClaimed();
  ctx.pickups.P1 = { ...ctx.pickups.P1!, claim: null };
  const { effects } = registry.step(ctx, { type: 'pin.matched', sessionId: 's3', kioskId: '1', pickupId: 'P1', serial: 1, now: 1_000 });
  assert.equal(sentTo(effects as Effects, 'session/s3'), [{ type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: false, pickupId: 'P1' }]);
});

test('registry: a refused unlock names a row of its table; one of an earlier op of that row changes nothing', () => {
  const ctx = twoClaimed();
  ctx.pickups.P1 = { ...ctx.pickups.P1!, status: 'RELEASING', opId: 'op-2', claim: { sessionId: 's1', until: 60_000, factor: 'birthDate' }, unlockSent: true };
  const stale = registry.step(ctx, { type: 'compartment.unlockFailed', compartmentId: 'A01', opId: 'op-1', purpose: 'collect', pickupId: 'P1', code: 'LOCK_FAILED', now: 1_000 });
  assert.is(stale.ctx, ctx, 'nothing changed');
  const refused = registry.step(ctx, { type: 'compartment.unlockFailed', compartmentId: 'A01', opId: 'op-2', purpose: 'collect', pickupId: 'P1', code: 'LOCK_FAILED', now: 1_000 });
  assert.is(refused.ctx.pickups.P1!.status, 'READY', 'the door never opened: nothing used up');
  assert.equal(sentTo(refused.effects as Effects, 'session/s1'), [{ type: 'release.failed', code: 'DEVICE_UNAVAILABLE' }]);
});

test.run();
