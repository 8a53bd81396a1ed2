import { rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AUTH, REGISTRY, pickupAddress } from '../../actors/messages.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { healthOf } from '../../schema/box.js';
import type { BoxEvent } from '../../actors/runtime/types.js';
import { DAY } from '../../src/config.js';
import { SYSTEMIC_QUARANTINES } from '../../src/box.js';
import { healthDocument } from '../../src/health.js';
import { metricsFor } from '../../src/metrics.js';
import { createYogaServer } from '../../src/server/index.js';
import { answerBirthDate, authenticate, MONDAY_10AM, passDoor, readyPickup, register, tempStorage, testBox, type TestBox } from '../helpers.js';
import { rejectionCode } from '../domain/assert-code.js';
import { damagePickupRow, damageRow } from '../support/damaged-row.js';

// A poison pickup fails alone. One pickup's stored row is damaged (a field of the wrong type that
// a handler trips on); every message about it crashes its own actor (`pickup/<id>`): past the
// restart intensity (5 in 30 s) that actor fails for good and the pickup is refused with
// PICKUP_FAILED, while every other pickup is still registered, loaded and collected.


const PHONE_POISON = '0152 28817390';
const PHONE_OK_1 = '0152 28817391';
const PHONE_OK_2 = '0152 28817392';
const e164 = (phone: string) => phone.replace(/^0/, '+49').replace(/\s/g, '');



/**
 * A box on a real SQLite file with `reference` READY (its number PHONE_POISON), restarted after the
 * pickup's stored row was damaged with `patch`: the poison pickup, as a restart finds it.
 */
async function restartedWithDamagedPickup(reference: string, patch: Record<string, unknown>) {
  const { dir, storage } = tempStorage();
  const clock = new SimulatedClock(MONDAY_10AM);
  const before = await testBox({ storage }, { clock });
  const { pin } = await readyPickup(before, reference, { phone: PHONE_POISON });
  const id = before.box.pickup(reference)!.id;
  await before.box.close();
  await damagePickupRow(storage, id, patch);
  return { dir, t: await testBox({ storage }, { clock }), id, pin };
}

/** The pickup's reminder fired six times (injected as the harness does): past the restart intensity of its crashes. */
async function remindSixTimes(t: TestBox, id: string): Promise<void> {
  for (let i = 0; i < 6; i++) {
    t.box.inject(pickupAddress(id), { type: 'pickup.remind', pickupId: id });
    await t.box.idle();
  }
}

/** Collects a READY pickup at the panel: number, PIN, birth date, the door opens and shuts. */
async function collect(t: TestBox, reference: string, pin: string, compartmentId: string, phone: string): Promise<void> {
  const sessionId = await authenticate(t, pin, e164(phone));
  await answerBirthDate(t, sessionId, '12.04.1980');
  assert.is(t.box.session(sessionId)!.step, 'opening', `${reference}: the door is unlocked`);
  await passDoor(t, compartmentId);
  assert.is(t.box.pickup(reference)!.status, 'COLLECTED', `${reference} was collected`);
}

test('a pickup whose row is damaged is refused alone; the others are registered, loaded and collected, and the quarantine survives a restart', async () => {
  const { dir, storage } = tempStorage();
  const clock = new SimulatedClock(MONDAY_10AM);
  let t = await testBox({ storage }, { clock });
  const poison = await readyPickup(t, 'V-POISON-1', { phone: PHONE_POISON });
  const ok1 = await readyPickup(t, 'V-OK-1', { phone: PHONE_OK_1 });
  const poisonId = t.box.pickup('V-POISON-1')!.id;
  await t.box.close();

  // The pickup window's end, typed by hand as text with an impossible date: every handler that
  // writes the last pickup day into an SMS (reminder, new PIN) throws RangeError on it.
  await damagePickupRow(storage, poisonId, { expiresAt: '2026-13-03' });

  t = await testBox({ storage }, { clock });
  const events: BoxEvent[] = [];
  const stop = t.box.supervisor.events.listen((e) => events.push(e));
  assert.is(t.box.pickup('V-POISON-1')!.status, 'READY', 'the damaged row was restored as it is');

  // Its reminder timer fires and crashes its actor; a minute later staff reissue its PIN again
  // and again, and each new PIN crashes it: six crashes in 30 s, one more than the restart
  // intensity. (When the registry held every pickup, this failed it and every pickup with it.)
  await t.box.advance(8 * DAY + 60_000);
  const poisonActor = pickupAddress(poisonId);
  const restarts = () => events.filter((e) => e.type === 'actor.restarted' && e.actor === poisonActor).length;
  assert.is(restarts(), 1, "the reminder crashed on the damaged row: the pickup's actor restarted");
  for (let i = 0; i < 6; i++) {
    assert.is(await rejectionCode(t.box.reissuePin('V-POISON-1', 'staff-anna')), null); // answered, then its new PIN crashes the actor
    await t.box.idle();
    assert.is(restarts(), Math.min(2 + i, 6), 'each crash within the intensity is a restart');
  }
  assert.ok(events.some((e) => e.type === 'actor.failed' && e.actor === poisonActor), "the sixth crash in 30 s failed the pickup's actor for good");
  assert.not.ok(events.some((e) => e.type === 'actor.restarted' && e.actor !== poisonActor), 'no other actor crashed');

  // The pickup is refused with its own code, at once.
  assert.is(await rejectionCode(t.box.reissuePin('V-POISON-1', 'staff-anna')), 'PICKUP_FAILED');
  assert.is(await rejectionCode(t.box.retrievePickup('V-POISON-1', 'staff-anna')), 'PICKUP_FAILED');
  assert.is(await rejectionCode(t.box.cancelPickup('V-POISON-1', 'staff-anna')), 'PICKUP_FAILED');
  assert.equal(t.box.quarantinedPickups().map((q) => [q.reference, q.compartmentId]), [['V-POISON-1', poison.compartmentId]]);

  // Staff are told which pickup, where, and what to do.
  const alarm = t.box.alarms(true).find((a) => a.code === 'PICKUP_FAILED');
  assert.ok(alarm, 'a PICKUP_FAILED alarm is open');
  assert.is(alarm!.subject, 'V-POISON-1');
  assert.is(alarm!.severity, 'warning');
  assert.match(alarm!.text, `Pickup V-POISON-1 kept crashing its own actor`);
  assert.match(alarm!.text, `lift the quarantine (staff console: "Quarantäne aufheben" on the alarm; or liftPickupQuarantine), retrieve the document from compartment ${poison.compartmentId} and hand it out at the counter`);

  // The registry is not failed: no ACTOR_FAILED, health degraded (warn, 200), not failed.
  assert.is(t.box.supervisor.view(REGISTRY)!.status, 'active');
  assert.equal(t.box.failures(), []);
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'ACTOR_FAILED'));
  const summary = healthOf(t.box);
  assert.equal([summary.ok, summary.criticalAlarms, summary.failedActors, summary.quarantinedPickups], [true, 0, [], 1], 'the health query: ok, one pickup refused');
  const doc = await healthDocument(t.box);
  assert.is(doc.status, 'warn');
  assert.match(await metricsFor(t.box).text(), /^ausgabebox_pickups_quarantined 1$/m);
  assert.is(doc.checks['pickups:quarantined']![0]!.status, 'warn');
  assert.match(doc.checks['pickups:quarantined']![0]!.output!, `1 pickup(s) refused on their own (PICKUP_FAILED) because handling them kept crashing, in ${poison.compartmentId}`);
  assert.not.match(doc.checks['pickups:quarantined']![0]!.output!, 'V-POISON-1', 'the open /health names no reference');
  const server = createYogaServer(t.box, { tokens: { kiosk: 'k'.repeat(20), staff: { anna: 's'.repeat(20) }, integration: 'i'.repeat(20), monitor: 'm'.repeat(20), harness: 'h'.repeat(20) } });
  const { url } = await server.listen(0, '127.0.0.1');
  try {
    const res = await fetch(new URL('/health', url));
    assert.is(res.status, 200, 'degraded is still serving');
    const body = (await res.json()) as { status: string; checks: Record<string, Array<{ output?: string }>> };
    assert.is(body.status, 'warn');
    assert.match(body.checks['pickups:quarantined']![0]!.output!, `PICKUP_FAILED`);
  } finally {
    await server.close();
  }

  // Every other pickup is served: one READY before the damage is collected, a new one is
  // registered, loaded and collected, all through the box's API and its panel.
  await t.box.reissuePin('V-OK-1', 'staff-anna'); // its first PIN's window ran on: a fresh one
  await t.box.idle();
  const ok1Pin = t.hw.sms.to(e164(PHONE_OK_1)).map((m) => /PIN: (\d{6})/.exec(m.text)?.[1]).filter(Boolean).at(-1)!;
  await collect(t, 'V-OK-1', ok1Pin, ok1.compartmentId, PHONE_OK_1);
  const ok2 = await readyPickup(t, 'V-OK-2', { phone: PHONE_OK_2 });
  await collect(t, 'V-OK-2', ok2.pin, ok2.compartmentId, PHONE_OK_2);
  assert.is((await register(t.box, 'V-OK-3', { phone: PHONE_OK_2 })).status, 'REGISTERED');
  assert.is(t.box.supervisor.view(REGISTRY)!.status, 'active');
  assert.is(t.box.supervisor.pendingAsks, 0);
  stop();
  await t.box.close();

  // A restart of the box: the quarantine is still there, nothing crashes again.
  t = await testBox({ storage }, { clock });
  const after: BoxEvent[] = [];
  const stop2 = t.box.supervisor.events.listen((e) => after.push(e));
  assert.equal(t.box.quarantinedPickups().map((q) => q.reference), ['V-POISON-1']);
  assert.is(await rejectionCode(t.box.reissuePin('V-POISON-1', 'staff-anna')), 'PICKUP_FAILED');
  assert.is((await healthDocument(t.box)).status, 'warn');
  assert.ok(t.box.alarms(true).some((a) => a.code === 'PICKUP_FAILED' && a.subject === 'V-POISON-1'), 'the alarm stays open');
  // Its expiry comes due: held, not delivered into a crash loop.
  await t.box.advance(3 * DAY);
  assert.is(after.filter((e) => e.type === 'actor.restarted').length, 0, 'no crash after the restart');
  assert.is(t.box.pickup('V-POISON-1')!.status, 'READY', 'the expiry was held');
  assert.is(t.box.pickup('V-OK-3')!.status, 'REGISTERED');
  assert.is(t.box.supervisor.view(REGISTRY)!.status, 'active');
  stop2();
  await t.box.close();

  // The repair: the row gets a real end of window again. The quarantine holds until staff lift it
  // (over GraphQL, audited); then its held timers run — the window is over, so it expires — and
  // staff retrieve the document through the box as for any expired pickup.
  const repairedExpiry = MONDAY_10AM + 10 * DAY;
  await damagePickupRow(storage, poisonId, { expiresAt: repairedExpiry });
  t = await testBox({ storage }, { clock });
  assert.equal(t.box.quarantinedPickups().map((q) => q.reference), ['V-POISON-1'], 'a repair alone lifts nothing');
  const staff = createYogaServer(t.box, { tokens: { kiosk: 'k'.repeat(20), staff: { anna: 's'.repeat(20) }, integration: 'i'.repeat(20), monitor: 'm'.repeat(20), harness: 'h'.repeat(20) } });
  const served = await staff.listen(0, '127.0.0.1');
  try {
    const lift = () =>
      fetch(new URL('/graphql', served.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${'s'.repeat(20)}` },
        body: JSON.stringify({ query: 'mutation { liftPickupQuarantine(reference: "V-POISON-1") { reference status } }' }),
      }).then((r) => r.json() as Promise<{ data?: { liftPickupQuarantine: { status: string } }; errors?: Array<{ extensions?: { code?: string } }> }>);
    const lifted = await lift();
    assert.is(lifted.data?.liftPickupQuarantine.status, 'READY', JSON.stringify(lifted.errors));
    assert.is((await lift()).errors?.[0]?.extensions?.code, 'PICKUP_WRONG_STATE', 'lifted once');
  } finally {
    await staff.close();
  }
  await t.box.advance(0);
  assert.equal(t.box.quarantinedPickups(), []);
  assert.is((await healthDocument(t.box)).checks['pickups:quarantined']![0]!.status, 'pass');
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'PICKUP_FAILED'), 'the alarm is cleared');
  assert.is(t.box.pickup('V-POISON-1')!.status, 'EXPIRED', 'its held expiry ran once lifted');
  const audit = await t.box.audit(1, 10_000);
  assert.ok(audit.some((r) => r.action === 'pickup.quarantineLifted' && r.actor === 'anna' && r.subject === 'V-POISON-1'), JSON.stringify(audit.filter((r) => r.action.includes('quarantine'))));
  await t.box.retrievePickup('V-POISON-1', 'staff-anna');
  await t.box.idle();
  await passDoor(t, poison.compartmentId);
  assert.is(t.box.pickup('V-POISON-1')!.status, 'RETURNED', 'the document went back to the counter through the box');
  await t.box.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a citizen whose pickup is quarantined is told at once at the PIN step, and their pickup is left alone', async () => {
  const { dir, t, id, pin } = await restartedWithDamagedPickup('V-POISON-3', { expiresAt: '2026-13-03' });
  // Its reminder re-fired six times (injected as the harness does): quarantined, its PIN still valid.
  await remindSixTimes(t, id);
  assert.equal(t.box.quarantinedPickups().map((q) => q.reference), ['V-POISON-3']);
  const { sessionId } = await t.box.startSession();
  await t.box.sessionInput(sessionId, { type: 'phone', phone: e164(PHONE_POISON) });
  // The auth actor's match comes back from the failed pickup actor (delivery.failed), and the auth
  // actor answers the panel at once, instead of leaving it to its time-out: the box cannot hand it
  // out (PICKUP_FAILED: the counter does), not "busy, try again".
  const answer = await t.box.sessionInput(sessionId, { type: 'pin', pin });
  assert.is(answer.error, 'PICKUP_FAILED');
  assert.is(answer.step, 'done');
  assert.is(t.box.pickup('V-POISON-3')!.claim, null, 'nothing was claimed');
  assert.is(t.box.pickup('V-POISON-3')!.failedAttempts, 0, 'a right PIN is not counted as a failure');
  assert.is(t.box.supervisor.view(REGISTRY)!.status, 'active');
  await t.box.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The pickup's stored row damaged with `patch`, so that the panel step `step` takes crashes its
 * actor once, before any effect: the panel hears PICKUP_FAILED, once (its session ends so), and
 * the call answers with that view; the actor is restarted, not failed.
 */
async function crashOnceAtPanel(reference: string, patch: Record<string, unknown>, step: (t: TestBox, pin: string) => Promise<{ step: string; error: string | null }>): Promise<void> {
  const { dir, t, pin } = await restartedWithDamagedPickup(reference, patch);
  try {
    const answer = await step(t, pin);
    assert.is(answer.error, 'PICKUP_FAILED');
    assert.is(answer.step, 'done');
    assert.equal(t.box.failures(), [], 'one crash: restarted, not failed');
  } finally {
    await t.box.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a right PIN whose match crashes the pickup actor once (before any effect): the panel hears PICKUP_FAILED, once, and the call answers with it', async () => {
  // A status no version writes: the pickup actor's handler throws on the match, and is restarted.
  await crashOnceAtPanel('V-POISON-6', { status: 7 }, async (t, pin) => {
    const { sessionId } = await t.box.startSession();
    await t.box.sessionInput(sessionId, { type: 'phone', phone: e164(PHONE_POISON) });
    // Before: the call failed ACTOR_CRASHED while the screen said PICKUP_FAILED.
    return t.box.sessionInput(sessionId, { type: 'pin', pin });
  });
});

test('a birth date whose check crashes the pickup actor once (before any effect): the panel hears PICKUP_FAILED, once, and the call answers with it', async () => {
  // A birth date stored as a number: the PIN matches (it is not read), its comparison throws.
  await crashOnceAtPanel('V-POISON-7', { birthDate: 19800412 }, async (t, pin) => {
    const sessionId = await authenticate(t, pin, e164(PHONE_POISON));
    assert.is(t.box.session(sessionId)!.step, 'factor', 'the PIN was accepted');
    await t.box.sessionInput(sessionId, { type: 'factor', factor: 'birthDate' });
    return t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: '12.04.1980' });
  });
});

test('a wrong PIN on a number with a refused pickup and a sound one: counted on the sound one only, the refused one\'s share refused by its failed actor, the citizen told AUTH_FAILED', async () => {
  const { dir, t, id, pin: poisonPin } = await restartedWithDamagedPickup('V-POISON-5', { expiresAt: '2026-13-03' });
  const sound = await readyPickup(t, 'V-SOUND-5', { phone: PHONE_POISON });
  await remindSixTimes(t, id);
  assert.equal(t.box.quarantinedPickups().map((q) => q.reference), ['V-POISON-5']);
  const refused: string[] = [];
  const stop = t.box.supervisor.deadLetters.listen((d) => refused.push(`${d.envelope.message.type} ${d.reason}`));
  const wrong = ['111111', '222222'].find((p) => p !== poisonPin && p !== sound.pin)!;
  const { sessionId } = await t.box.startSession();
  await t.box.sessionInput(sessionId, { type: 'phone', phone: e164(PHONE_POISON) });
  const answer = await t.box.sessionInput(sessionId, { type: 'pin', pin: wrong });
  await t.box.idle();
  stop();
  assert.is(answer.error, 'AUTH_FAILED', 'the same answer as for any wrong PIN');
  assert.is(t.box.pickup('V-SOUND-5')!.failedAttempts, 1, 'counted on the sound pickup');
  assert.is(t.box.pickup('V-POISON-5')!.failedAttempts, 0, 'not on the quarantined one');
  assert.equal(refused, ['pin.missed actor-failed'], 'its message refused by its failed actor');
  assert.is(t.box.supervisor.view(REGISTRY)!.status, 'active');
  await t.box.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a crash in the PIN check fails the auth actor, not the registry: ACTOR_FAILED, health fails, registrations and staff work go on', async () => {
  const { dir, storage } = tempStorage();
  const clock = new SimulatedClock(MONDAY_10AM);
  let t = await testBox({ storage, throttle: { free: 1_000 } }, { clock });
  await readyPickup(t, 'V-POISON-2', { phone: PHONE_POISON });
  const id = t.box.pickup('V-POISON-2')!.id;
  await t.box.close();
  // The PIN hash the auth actor holds, damaged into a number: a PIN check compares it, and throws.
  await damageRow(storage, AUTH, 'credentials', id, { pinHash: 123456 });
  t = await testBox({ storage, throttle: { free: 1_000 } }, { clock });
  // A PIN check finds credentials by the number typed: its crashes count against the auth actor,
  // which fails for good after the sixth. Each citizen gets a code, none waits.
  const codes: string[] = [];
  for (let i = 0; i < 6; i++) {
    const { sessionId } = await t.box.startSession();
    await t.box.sessionInput(sessionId, { type: 'phone', phone: e164(PHONE_POISON) });
    codes.push(String(await rejectionCode(t.box.sessionInput(sessionId, { type: 'pin', pin: '123456' }))));
    await t.box.idle();
    if (t.box.session(sessionId) && t.box.session(sessionId)!.step !== 'done') await rejectionCode(t.box.sessionInput(sessionId, { type: 'cancel' }));
    await t.box.idle();
  }
  assert.ok(codes.every((c) => c === 'ACTOR_CRASHED' || c === 'ACTOR_FAILED'), codes.join(', '));
  assert.is(t.box.supervisor.view(AUTH)!.status, 'failed');
  assert.is(t.box.supervisor.view(REGISTRY)!.status, 'active', 'the registry never ran the check');
  assert.equal(t.box.failures().map((f) => f.actor), [AUTH]);
  assert.ok(t.box.alarms(true).some((a) => a.code === 'ACTOR_FAILED' && a.subject === AUTH), 'staff are told');
  assert.is((await healthDocument(t.box)).status, 'fail');
  // A citizen at the panel can still give up: the end of the session is answered, not refused
  // because the auth actor it is passed through has failed.
  const { sessionId: leaving } = await t.box.startSession();
  await t.box.sessionInput(leaving, { type: 'phone', phone: e164(PHONE_POISON) });
  assert.is((await t.box.sessionInput(leaving, { type: 'cancel' })).step, 'done');
  // A PIN typed now is refused at once with the code, not left to the ask's time-out (which the
  // simulated clock would never reach).
  const { sessionId: late } = await t.box.startSession();
  await t.box.sessionInput(late, { type: 'phone', phone: e164(PHONE_POISON) });
  const refused = await Promise.race([rejectionCode(t.box.sessionInput(late, { type: 'pin', pin: '123456' })), new Promise((resolve) => setTimeout(() => resolve('no answer within 2 s'), 2_000))]);
  assert.is(refused, 'ACTOR_FAILED');
  // Registering and loading go on: documents can still go into the box for when the check is back.
  await register(t.box, 'V-AFTER');
  const loaded = await t.box.loadPickup('V-AFTER', 'staff-1');
  assert.is(loaded.status, 'LOADING');
  await t.box.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a quarantined pickup whose record of its compartment is the damaged part: the alarm sends staff to find the document, not to 'no compartment'", async () => {
  const { dir, t, id } = await restartedWithDamagedPickup('V-POISON-4', { expiresAt: '2026-13-03', compartmentId: 42 });
  await remindSixTimes(t, id);
  const alarm = t.box.alarms(true).find((a) => a.code === 'PICKUP_FAILED' && a.subject === 'V-POISON-4');
  assert.ok(alarm, 'quarantined, with its alarm');
  assert.match(alarm!.text, /record of the compartment is damaged: find its document in the box/);
  assert.equal(t.box.quarantinedPickups().map((q) => q.compartmentId), [null], 'the API names no compartment it cannot read');
  await t.box.close();
  rmSync(dir, { recursive: true, force: true });
});

test(`${SYSTEMIC_QUARANTINES} pickups failing alone point at the box, not at their data: a critical alarm, health fails; lifting one clears it`, async () => {
  const { dir, storage } = tempStorage();
  const clock = new SimulatedClock(MONDAY_10AM);
  let t = await testBox({ storage }, { clock });
  const refs = Array.from({ length: SYSTEMIC_QUARANTINES }, (_, i) => `V-MANY-${i + 1}`);
  for (const [i, reference] of refs.entries()) await readyPickup(t, reference, { phone: `0152 2881740${i}` });
  const ids = refs.map((r) => t.box.pickup(r)!.id);
  await t.box.close();
  for (const id of ids) await damagePickupRow(storage, id, { expiresAt: '2026-13-03' });
  t = await testBox({ storage }, { clock });
  const many = () => t.box.alarms(true).find((a) => a.code === 'PICKUP_FAILED' && a.severity === 'critical');
  for (const [n, id] of ids.entries()) {
    await remindSixTimes(t, id);
    assert.is(t.box.quarantinedPickups().length, n + 1);
    const doc = await healthDocument(t.box);
    if (n + 1 < SYSTEMIC_QUARANTINES) {
      assert.is(many(), undefined, `${n + 1} quarantined: no critical alarm yet`);
      assert.is(doc.status, 'warn');
    } else {
      assert.ok(many(), 'a critical alarm says the box itself is at fault');
      assert.match(many()!.text, `${SYSTEMIC_QUARANTINES} pickups kept crashing and are refused on their own`);
      assert.is(doc.status, 'fail', 'health fails');
      assert.is(doc.checks['pickups:quarantined']![0]!.status, 'fail');
      assert.is(healthOf(t.box).ok, false);
    }
  }
  assert.is(t.box.supervisor.view(REGISTRY)!.status, 'active', 'the registry itself still serves');
  await t.box.liftPickupQuarantine(refs[0]!, 'anna');
  await t.box.idle();
  assert.is(many(), undefined, 'one lifted: below the threshold, the critical alarm is cleared');
  assert.is((await healthDocument(t.box)).status, 'warn');
  await t.box.close();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
