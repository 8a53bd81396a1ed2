import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pickupActor } from '../../actors/pickup-actor.js';
import { pickupLife, type Pickup, type Step } from '../../actors/pickup.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { Supervisor } from '../../actors/runtime/supervisor.js';
import type { Effect, Message } from '../../actors/runtime/types.js';
import { registryCrypto } from '../../src/crypto.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { TEST_PIN_KEY, TEST_POLICY } from '../security/registry-rig.js';

// One pickup as an actor of its own (docs/pickup-actors.md), alone: on a real supervisor and
// store, its row is its context, its reminder, expiry and purge are its own timers (kept over a
// restart), each message about it is handled by the pickup's life, and once archived it stops. What it sends to the other actors (none here) is read from
// the supervisor's dead letters.

const START = Date.UTC(2026, 11, 2, 9, 0, 0);
const DAY = 86_400_000;
const request = { requestId: 'r', replyTo: 'replies' } as const;
const crypto = registryCrypto(TEST_PIN_KEY, () => '123456');
const archived: Pickup[] = [];
const claims = new Map<string, string>();
const behavior = pickupActor(TEST_POLICY, crypto, {
  claimOnce: async (key, owner) => (claims.has(key) ? false : (claims.set(key, owner), true)),
  release: async (key, owner) => void (claims.get(key) === owner && claims.delete(key)),
}, { archive: async (p) => void archived.push(p) });

/** A registered pickup's row, as the registry makes it. */
function registered(): Pickup {
  const effects: Effect<unknown>[] = [];
  const enq = { emit: new Proxy({}, { get: (_t, type: string) => (payload: object) => effects.push({ type, ...payload } as Effect<unknown>) }) };
  const s = { now: START, enq, free: () => {} } as unknown as Step;
  return pickupLife(TEST_POLICY, crypto).register('P1', { reference: 'V-1', documentKind: 'ID_CARD', phone: '+4915228817386', birthDate: '1980-04-12', oldDocumentNumber: null, accessible: false, documents: 1 }, request, s);
}

async function setup() {
  const clock = new SimulatedClock(START);
  const persistence = await openPersistence('memory:');
  const sup = new Supervisor({ clock, persistence, behaviors: [behavior] });
  const sent: Array<{ to: string; message: Message }> = [];
  sup.deadLetters.listen((d) => void sent.push({ to: d.envelope.to, message: d.envelope.message }));
  await sup.spawn('pickup/P1', 'pickup', { row: registered() });
  await sup.idle();
  const row = () => sup.view<Pickup>('pickup/P1')?.ctx;
  const tell = async (message: Message) => {
    sup.send('pickup/P1', message);
    await sup.idle();
  };
  const to = (address: string) => sent.filter((s) => s.to === address).map((s) => s.message);
  return { clock, persistence, sup, sent, row, tell, to };
}

test('pickup actor: loaded, its PIN made and sent, reminded and expired on its own timers, taken back, purged and archived, then gone', async () => {
  const { clock, sup, row, tell, to } = await setup();
  assert.is(row()!.status, 'REGISTERED');
  await tell({ type: 'pickup.load', reference: 'V-1', by: 'anna', ...request });
  assert.equal(to('allocation').map((m) => m.type), ['allocate']);
  await tell({ type: 'compartment.claimed', pickupId: 'P1', compartmentId: 'A01', by: 'anna', ...request });
  const [unlock] = to('compartment/A01') as unknown as Array<{ type: string; opId: string; purpose: string }>;
  assert.equal([unlock!.type, unlock!.opId, unlock!.purpose], ['unlock', 'op-P1-1', 'load'], 'its operation ids are its own');
  await tell({ type: 'compartment.opened', compartmentId: 'A01', opId: 'op-P1-1', purpose: 'load', pickupId: 'P1' });
  await tell({ type: 'compartment.closed', compartmentId: 'A01', opId: 'op-P1-1', purpose: 'load', pickupId: 'P1' });
  assert.equal([row()!.status, row()!.pinSerial, row()!.pinIssued], ['READY', 1, true], 'the PIN was made through its own I/O');
  const sms = to('outbox') as unknown as Array<{ type: string; id: string; text: string }>;
  assert.equal(sms.map((m) => m.id), ['pin-P1-1']);
  assert.match(sms[0]!.text, 'PIN: 123456');
  assert.equal(to('auth').map((m) => m.type), ['credential.set']);

  // Its reminder, then its expiry, on its own timers.
  await clock.advance(TEST_POLICY.windowMs - TEST_POLICY.reminderBeforeMs, () => sup.idle());
  assert.is(row()!.reminderSent, true);
  assert.equal((to('outbox') as unknown as Array<{ id: string }>).map((m) => m.id), ['pin-P1-1', 'remind-P1']);
  await clock.advance(TEST_POLICY.reminderBeforeMs, () => sup.idle());
  assert.is(row()!.status, 'EXPIRED');
  assert.ok(to('alarms').some((m) => (m as { code?: string }).code === 'PICKUP_EXPIRED'));
  assert.ok(to('auth').some((m) => m.type === 'credential.drop'), 'its PIN died with READY');

  // Staff take it back; after the audit period its personal data goes and it leaves for the archive.
  await tell({ type: 'pickup.retrieve', reference: 'V-1', by: 'anna', ...request });
  await tell({ type: 'compartment.opened', compartmentId: 'A01', opId: 'op-P1-2', purpose: 'retrieve', pickupId: 'P1' });
  assert.is(row()!.status, 'RETURNED');
  await clock.advance(TEST_POLICY.purgeAfterMs, () => sup.idle());
  assert.equal(archived.map((p) => [p.id, p.phone, p.personalDataDeleted]), [['P1', null, true]]);
  assert.is(row(), undefined, 'archived: the actor stopped');
  assert.equal(to('registry').map((m) => m.type).filter((t) => t === 'pickup.archived'), ['pickup.archived'], 'the registry hears it (it keeps the reference)');
});

test('pickup actor: its row and timers survive a restart; recovered, a claim of a session that did not survive is void', async () => {
  const { clock, persistence, sup, row, tell } = await setup();
  await tell({ type: 'pickup.load', reference: 'V-1', by: 'anna', ...request });
  await tell({ type: 'compartment.claimed', pickupId: 'P1', compartmentId: 'A01', by: 'anna', ...request });
  await tell({ type: 'compartment.opened', compartmentId: 'A01', opId: 'op-P1-1', purpose: 'load', pickupId: 'P1' });
  await tell({ type: 'compartment.closed', compartmentId: 'A01', opId: 'op-P1-1', purpose: 'load', pickupId: 'P1' });
  await tell({ type: 'pin.matched', sessionId: 's1', kioskId: '1', pickupId: 'P1', serial: 1 });
  assert.is(row()!.claim?.sessionId, 's1');
  await sup.close();

  const again = new Supervisor({ clock, persistence, behaviors: [behavior] });
  await again.restore();
  await again.idle();
  const restored = again.view<Pickup>('pickup/P1')!.ctx;
  assert.equal([restored.status, restored.compartmentId, restored.claim], ['READY', 'A01', null], 'the claim of a session from before is void');
  await clock.advance(TEST_POLICY.windowMs, () => again.idle());
  assert.is(again.view<Pickup>('pickup/P1')!.ctx.status, 'EXPIRED', 'its expiry timer was kept');
});

test('pickup actor: a second factor or release from a session that holds no claim on it is refused; a wrong PIN on a renewed PIN is not counted', async () => {
  const { row, tell, to } = await setup();
  await tell({ type: 'pickup.load', reference: 'V-1', by: 'anna', ...request });
  await tell({ type: 'compartment.claimed', pickupId: 'P1', compartmentId: 'A01', by: 'anna', ...request });
  await tell({ type: 'compartment.opened', compartmentId: 'A01', opId: 'op-P1-1', purpose: 'load', pickupId: 'P1' });
  await tell({ type: 'compartment.closed', compartmentId: 'A01', opId: 'op-P1-1', purpose: 'load', pickupId: 'P1' });
  await tell({ type: 'auth.birthDate', sessionId: 's9', birthDate: '1980-04-12', pickupId: 'P1' });
  assert.equal(to('session/s9'), [{ type: 'auth.factorRejected', factor: 'birthDate', locked: false, code: 'SESSION_NOT_FOUND' }]);
  await tell({ type: 'pickup.release', sessionId: 's9', pickupId: 'P1' });
  assert.equal(to('session/s9').at(-1), { type: 'release.failed', code: 'AUTH_FAILED' });
  await tell({ type: 'pin.missed', kioskId: '1', pickupId: 'P1', serial: 0 });
  assert.is(row()!.failedAttempts, 0, 'an older serial: not counted');
  await tell({ type: 'pin.missed', kioskId: '1', pickupId: 'P1', serial: 1 });
  assert.is(row()!.failedAttempts, 1);
  assert.equal(behavior.check!({ type: 'pin.missed', kioskId: '1', pickupId: 'P1' }), ['serial: Invalid input: expected number, received undefined'], 'a message is checked against its schema');
});

test('pickup actor: started with a row made elsewhere (a registry table split into actors), it keeps its dates: reminder and expiry, or purge', async () => {
  const clock = new SimulatedClock(START);
  const persistence = await openPersistence('memory:');
  const sup = new Supervisor({ clock, persistence, behaviors: [behavior] });
  const base = registered();
  const expiresAt = START + 3 * DAY;
  await sup.spawn('pickup/P1', 'pickup', { row: { ...base, status: 'READY', compartmentId: 'A01', pinSerial: 1, pinIssued: true, pinQueued: true, readyAt: START - DAY, expiresAt } });
  await sup.spawn('pickup/P2', 'pickup', { row: { ...base, id: 'P2', reference: 'V-2', status: 'COLLECTED', endedAt: START - DAY, purgeAt: START + DAY } });
  await sup.spawn('pickup/P3', 'pickup', { row: { ...base, id: 'P3', reference: 'V-3' } });
  await sup.idle();
  const stored = await persistence.loadActors();
  const timers = (address: string) => stored.get(address)!.timers.map((t) => [t.key, t.at]);
  assert.equal(timers('pickup/P1'), [['remind:P1', expiresAt - TEST_POLICY.reminderBeforeMs], ['expire:P1', expiresAt]]);
  assert.equal(timers('pickup/P2'), [['purge:P2', START + DAY]]);
  assert.equal(timers('pickup/P3'), [], 'registered, not in the box: none');
  await clock.advance(DAY, () => sup.idle());
  assert.is(sup.view('pickup/P2'), undefined, 'purged and archived on its kept date');
  await clock.advance(2 * DAY, () => sup.idle());
  assert.is(sup.view<Pickup>('pickup/P1')!.ctx.status, 'EXPIRED');
});

test.run();
