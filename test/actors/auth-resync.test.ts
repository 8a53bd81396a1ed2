import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuthCtx, Credential } from '../../actors/auth.js';
import type { Pickup } from '../../actors/pickup.js';
import type { RegistryCtx } from '../../actors/registry.js';
import { authUnderTest, pickupUnderTest, registryUnderTest, spawnedRow } from '../security/registry-rig.js';

// An auth actor back after a crash or a revival hears, pickup by pickup, which PINs the pickups
// have made and not taken back: first, from the registry, which pickups hold one (`credential.live`:
// its own table's holders and every pickup that is an actor of its own; what it holds of any other
// pickup known by then goes), then each pickup's PIN from the pickup itself (`credential.expect`,
// sent after every `credential.*` of that pickup before it): a PIN being released is held aside (or
// live again), one of another serial goes, and one it never got goes back to the pickup's own
// actor, which gets a new PIN. An earlier version's registry sent the whole list in one
// `credential.expect`.

const auth = authUnderTest();
const registry = registryUnderTest();
const pickup = pickupUnderTest();
const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);
const credential = (pickupId: string, serial: number, held?: true): Credential => ({ pickupId, numberKey: 'k', serial, pinHash: `h-${pickupId}-${serial}`, ...(held ? { held } : {}) });

const revived = (): AuthCtx => ({
  credentials: { P1: credential('P1', 1), P2: credential('P2', 1), P3: credential('P3', 2, true), P9: credential('P9', 1), P12: credential('P12', 1), X7: credential('X7', 1) },
  numberThrottles: {},
  kioskThrottles: {},
});

test('auth: revived, it asks the registry, then drops the credentials of pickups without a PIN, but not of pickups made since', () => {
  const restarted = auth.step(revived(), { type: 'restarted', now: NOW });
  assert.equal(restarted.effects, [{ type: 'send', to: 'registry', message: { type: 'auth.restarted' } }]);
  // P9 holds no PIN any more; X7 (an id of an earlier version's form) neither; P12 was registered
  // after the registry counted to 10 and named the pickups holding one: its PIN stays.
  const { ctx, effects } = auth.step(revived(), { type: 'credential.live', pickupIds: ['P1', 'P2', 'P3', 'P4'], upTo: 10, now: NOW });
  assert.equal(Object.keys(ctx.credentials).sort(), ['P1', 'P12', 'P2', 'P3']);
  assert.equal(effects, [], 'nothing is said: the pickups answer for themselves');
  const none = auth.step(ctx, { type: 'credential.live', pickupIds: ['P1', 'P2', 'P3', 'P4'], upTo: 10, now: NOW });
  assert.is(none.ctx, ctx, 'nothing left to drop: unchanged');
});

test("auth: each pickup's PIN is fixed alone: held aside, live again, another serial dropped, one never got named back to its pickup", () => {
  const ctx = revived();
  const expect = (pickupId: string, pin: { serial: number; held: boolean } | null) => auth.step(ctx, { type: 'credential.expect', pickupId, pin, now: NOW });
  const releasing = expect('P1', { serial: 1, held: true });
  assert.is(releasing.ctx.credentials.P1!.held, true, 'being released now: held aside');
  assert.equal(releasing.effects, []);
  assert.is(expect('P3', { serial: 2, held: false }).ctx.credentials.P3!.held, undefined, 'its release did not happen: live again');
  const reissued = expect('P2', { serial: 2, held: false });
  assert.not.ok(reissued.ctx.credentials.P2, 'reissued while the auth actor had failed: the old serial goes');
  assert.equal(reissued.effects, [{ type: 'send', to: 'pickup/P2', message: { type: 'credential.missing', pickupId: 'P2', serial: 2 } }], 'back to its pickup');
  assert.equal(expect('P4', { serial: 1, held: false }).effects, [{ type: 'send', to: 'pickup/P4', message: { type: 'credential.missing', pickupId: 'P4', serial: 1 } }], 'made while it had failed');
  const gone = expect('P9', null);
  assert.not.ok(gone.ctx.credentials.P9, 'the pickup holds no PIN: its credential goes');
  assert.equal(gone.effects, []);
  const same = expect('P12', { serial: 1, held: false });
  assert.is(same.ctx, ctx, 'as expected: unchanged');
  assert.equal(same.effects, []);
  assert.equal(auth.check!({ type: 'credential.expect', pickupId: 'P1' }), ['message: names one pickup (pickupId and pin), or every PIN (credentials) as an earlier version did']);
});

test("auth: an earlier version's registry named every PIN in one list: it is followed as before", () => {
  const ctx: AuthCtx = {
    credentials: { P1: credential('P1', 1), P2: credential('P2', 1), P3: credential('P3', 2, true), P9: credential('P9', 1) },
    numberThrottles: {},
    kioskThrottles: {},
  };
  const expect = [
    { pickupId: 'P1', serial: 1, held: true }, // being released now
    { pickupId: 'P2', serial: 2, held: false }, // reissued while the auth actor had failed
    { pickupId: 'P3', serial: 2, held: false }, // its release did not happen: live again
    { pickupId: 'P4', serial: 1, held: false }, // made while it had failed
  ];
  const { ctx: after, effects } = auth.step(ctx, { type: 'credential.expect', credentials: expect, now: NOW });
  assert.equal(Object.keys(after.credentials).sort(), ['P1', 'P3']);
  assert.is(after.credentials.P1!.held, true);
  assert.is(after.credentials.P3!.held, undefined);
  assert.equal(effects, [{ type: 'send', to: 'registry', message: { type: 'credential.missing', pickups: [{ pickupId: 'P2', serial: 2 }, { pickupId: 'P4', serial: 1 }] } }]);
});

const request = { requestId: 'r', replyTo: 'replies' } as const;

/** V-1 registered, spawned as `pickup/P1`: the registry after it, and its actor's row READY in A01 with PIN 1 sent. */
function readyP1(): { ctx: RegistryCtx; row: Pickup } {
  const registered = registry.step(registry.init(undefined, 'registry'), { type: 'pickup.register', input: { reference: 'V-1', documentKind: 'ID_CARD', phone: '+4915228817386', birthDate: '1980-04-12' }, ...request, now: NOW });
  const row: Pickup = { ...spawnedRow(registered.effects, 'pickup/P1'), status: 'READY', pinSerial: 1, pinIssued: true, pinQueued: true, compartmentId: 'A01' };
  return { ctx: registered.ctx, row };
}

test('pickup: revived after it failed for good (the catch-ups told meanwhile were refused), it tells the auth actor, the allocation actor and the outbox what it holds; restarted after a crash, nothing', () => {
  const { row } = readyP1();
  const unconfirmed: Pickup = { ...row, pinQueued: false };
  const revivedSends = pickup.step(unconfirmed, { type: 'restarted', now: NOW }).effects.filter((e) => e.type === 'send').map((e) => `${(e as { to: string }).to} ${(e as { message: { type: string } }).message.type}`);
  assert.equal(revivedSends, ['auth credential.expect', 'allocation slot.expect', 'outbox sms.expect']);
  assert.equal(pickup.step(unconfirmed, { type: 'restarted', code: 'ACTOR_CRASHED', now: NOW }).effects, [], 'a crash lost nothing of the peers');
});

test('pickup: revived, a claim whose session may still be at the panel is kept; a release with no unlock sent is undone and its session told', () => {
  const { row } = readyP1();
  const claimed: Pickup = { ...row, claim: { sessionId: 's1', until: NOW + 60_000, factor: 'birthDate' } };
  const kept = pickup.step(claimed, { type: 'restarted', now: NOW });
  assert.equal(kept.ctx.claim, claimed.claim, 'the claim stays (after a process restart it goes: every session is gone)');
  assert.not.ok(kept.effects.some((e) => e.type === 'send' && (e as { to: string }).to.startsWith('compartment/')), 'its compartment is not asked: it tells again what the failed actor refused');
  assert.is(pickup.step(claimed, { type: 'recovered', now: NOW }).ctx.claim, null, 'after a restart, the claim goes');

  const releasing: Pickup = { ...claimed, status: 'RELEASING', opId: 'op-P1-1', unlockSent: false };
  const undone = pickup.step(releasing, { type: 'restarted', now: NOW });
  assert.is(undone.ctx.status, 'READY', 'nothing moved: ready again');
  assert.ok(undone.effects.some((e) => e.type === 'io' && (e.op as { kind: string }).kind === 'releasePin'), 'the PIN claim is given back');
  assert.ok(
    undone.effects.some((e) => e.type === 'send' && (e as { to: string }).to === 'session/s1' && JSON.stringify((e as { message: unknown }).message) === JSON.stringify({ type: 'release.failed', code: 'PICKUP_FAILED' })),
    'the session waiting for its door hears it will not open',
  );
  const sent: Pickup = { ...releasing, unlockSent: true };
  assert.is(pickup.step(sent, { type: 'restarted', now: NOW }).ctx.status, 'RELEASING', 'an unlock sent: its outcome will come');
});

test('pickup: told the auth actor is back it says which PIN it holds; a PIN the auth actor never got is replaced, unless it was replaced or died meanwhile', () => {
  const { row } = readyP1();
  assert.equal(pickup.step(row, { type: 'auth.restarted', now: NOW }).effects, [{ type: 'send', to: 'auth', message: { type: 'credential.expect', pickupId: 'P1', pin: { serial: 1, held: false } } }]);
  const released: Pickup = { ...row, status: 'RELEASING', opId: 'op-P1-1', claim: { sessionId: 's1', until: NOW + 60_000, factor: 'birthDate' } };
  assert.equal(pickup.step(released, { type: 'auth.restarted', now: NOW }).effects, [{ type: 'send', to: 'auth', message: { type: 'credential.expect', pickupId: 'P1', pin: { serial: 1, held: true } } }], 'being released: held aside');
  const collected: Pickup = { ...row, status: 'COLLECTED', compartmentId: null, endedAt: NOW };
  assert.equal(pickup.step(collected, { type: 'auth.restarted', now: NOW }).effects, [{ type: 'send', to: 'auth', message: { type: 'credential.expect', pickupId: 'P1', pin: null } }], 'no PIN: it says so, and the auth actor drops what it holds');

  const missing = pickup.step(row, { type: 'credential.missing', pickupId: 'P1', serial: 1, now: NOW });
  assert.is(missing.ctx.pinSerial, 2, 'a new PIN');
  assert.ok(missing.effects.some((e) => e.type === 'io' && (e.op as { kind: string }).kind === 'issuePin'));
  assert.ok(missing.effects.some((e) => e.type === 'audit' && e.entry.action === 'pin.reissuedAfterAuthFailure'));
  const stale = pickup.step(row, { type: 'credential.missing', pickupId: 'P1', serial: 0, now: NOW });
  assert.is(stale.ctx, row, 'an older serial: replaced already, nothing to do');
  assert.is(pickup.step(collected, { type: 'credential.missing', pickupId: 'P1', serial: 1, now: NOW }).ctx, collected, 'its PIN died meanwhile: nothing to do');
});

test('registry: to a revived auth actor it names the PIN holders of its table and every pickup of its own, and tells each of those; a PIN of its table the auth actor never got is replaced', () => {
  const { ctx: withLive, row } = readyP1();
  // P1 is an actor of its own; P7 is a row an earlier version registered, READY in A02 with PIN 1.
  const legacy: Pickup = { ...row, id: 'P7', reference: 'V-7', compartmentId: 'A02' };
  const ctx: RegistryCtx = { ...withLive, seq: 7, pickups: { P7: legacy }, byReference: { ...withLive.byReference, 'V-7': 'P7' } };
  const asked = registry.step(ctx, { type: 'auth.restarted', now: NOW });
  assert.equal(asked.effects, [
    { type: 'send', to: 'auth', message: { type: 'credential.live', pickupIds: ['P7', 'P1'], upTo: 7 } },
    { type: 'send', to: 'auth', message: { type: 'credential.expect', pickupId: 'P7', pin: { serial: 1, held: false } } },
    { type: 'send', to: 'pickup/P1', message: { type: 'auth.restarted' } },
  ]);

  for (const form of [{ pickupId: 'P7', serial: 1 }, { pickups: [{ pickupId: 'P7', serial: 1 }] }]) {
    const missing = registry.step(ctx, { type: 'credential.missing', ...form, now: NOW });
    assert.is(missing.ctx.pickups.P7!.pinSerial, 2, 'a new PIN');
    assert.ok(missing.effects.some((e) => e.type === 'io' && (e.op as { kind: string }).kind === 'issuePin'));
  }
  const stale = registry.step(ctx, { type: 'credential.missing', pickupId: 'P7', serial: 0, now: NOW });
  assert.is(stale.ctx, ctx, 'an older serial: replaced already, nothing to do');
  assert.is(registry.partitionOf!(ctx, { type: 'credential.missing', pickupId: 'P7', serial: 1 }), 'P7', "the pickup's partition: a pickup whose handling crashes fails alone");
  assert.is(registry.partitionOf!(ctx, { type: 'credential.missing', pickups: [{ pickupId: 'P7', serial: 1 }] }), null);
  const quarantined = registry.step(ctx, { type: 'credential.missing', pickups: [{ pickupId: 'P7', serial: 1 }], now: NOW, quarantined: new Set(['P7']) });
  assert.is(quarantined.ctx, ctx, "an earlier version's list leaves a quarantined pickup alone");
});

test('registry: restarted after a crash, it finishes a hand-over to the auth actor the crash cut short, and replaces no PIN', () => {
  const { row } = readyP1();
  // As the version before the auth actor saved it: the row in its table with the hash on it, a throttle in its table.
  const ctx: RegistryCtx = { ...registry.init(undefined, 'registry'), seq: 1, byReference: { 'V-1': 'P1' } };
  const { pinIssued: _issued, ...old } = row;
  const legacy = { ...ctx, pickups: { P1: { ...old, pinHash: 'h1' } }, numberThrottles: { k: { failures: 2, until: 0 } } } as RegistryCtx;
  const { ctx: after, effects } = registry.step(legacy, { type: 'restarted', now: NOW });
  const adopt = effects.find((e) => e.type === 'send' && e.message.type === 'auth.adopt') as { message: { credentials: Array<{ pickupId: string; pinHash: string }>; numberThrottles: object } } | undefined;
  assert.ok(adopt, 'handed over now');
  assert.equal(adopt.message.credentials.map((c) => [c.pickupId, c.pinHash]), [['P1', 'h1']]);
  assert.equal(Object.keys(adopt.message.numberThrottles), ['k']);
  assert.not.ok('pinHash' in after.pickups.P1!, 'the hash left the row');
  assert.is(after.numberThrottles, undefined);
  assert.not.ok(effects.some((e) => e.type === 'io'), 'no new PIN');

  // Handed over before (or never saved before the auth actor): a restart sends and changes nothing.
  const current = { ...ctx, pickups: { P1: row } };
  const again = registry.step(current, { type: 'restarted', now: NOW });
  assert.equal(again.effects, []);
  assert.is(again.ctx, current);
  const emptied = registry.step({ ...current, numberThrottles: {}, kioskThrottles: {}, byNumber: {} }, { type: 'restarted', now: NOW });
  assert.equal(emptied.effects, [], 'tables emptied by the hand-over come back empty from storage: nothing is left to hand over');
});

test.run();
