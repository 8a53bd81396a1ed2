import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuthCtx } from '../../actors/auth.js';
import { AUTH, REGISTRY } from '../../actors/messages.js';
import type { RegistryCtx } from '../../actors/registry.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { toLegacyStore } from '../support/legacy-store.js';
import { answerBirthDate, authenticate, MONDAY_10AM, passDoor, PHONE, readyPickup, testBox, withTempStorage, wrongPin } from '../helpers.js';

// A box that ran the version before the auth actor kept PIN hashes on the registry's rows and the
// throttles in the registry's tables. Upgraded, it starts with a new auth actor, to which the
// registry hands both over once: the PIN the citizen got before the upgrade still opens the
// compartment, a throttle counted before still holds, and no PIN hash is left in the registry.
// On a real SQLite file, written in the earlier version's shape.

const STRANGER = '+4915228817399';

test('a store saved before the auth actor: PIN hashes and throttles are handed over at the first start, the PIN sent before still works', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-upgrade-', async (storage) => {
    let t = await testBox({ storage }, { clock });
    const { pin, compartmentId } = await readyPickup(t, 'V-UP-1');
    // Two wrong PINs for a stranger's number at kiosk 1: two failures on its bucket and the kiosk's.
    for (let i = 0; i < 2; i++) {
      const { sessionId } = await t.box.startSession();
      await t.box.sessionInput(sessionId, { type: 'phone', phone: STRANGER });
      assert.is((await t.box.sessionInput(sessionId, { type: 'pin', pin: wrongPin(pin) })).error, 'AUTH_FAILED');
      await t.box.sessionInput(sessionId, { type: 'cancel' });
      await t.box.idle();
    }
    await t.box.close();

    // The store as the earlier version left it: the hash on the registry's row, the throttles in
    // its tables, no auth actor.
    await toLegacyStore(storage, (id, auth) => auth.credentials[id]?.pinHash ?? null, true);

    t = await testBox({ storage }, { clock });
    await t.box.idle();
    const handed = t.box.supervisor.view<AuthCtx>(AUTH)!.ctx;
    const id = t.box.pickup('V-UP-1')!.id;
    assert.is(handed.credentials[id]?.serial, 1, 'the PIN hash went to the auth actor');
    assert.is(handed.kioskThrottles['1']?.failures, 2, "the kiosk's bucket came along");
    assert.is(Object.values(handed.numberThrottles).length, 1, "the stranger's number's bucket came along");
    const stored = (await t.box.persistence.loadActors()).get(REGISTRY)!.ctx as RegistryCtx;
    assert.not.ok(JSON.stringify(stored).includes('pinHash'), 'no PIN hash is left in the registry');
    assert.equal([stored.numberThrottles, stored.kioskThrottles, stored.byNumber].map((x) => Object.keys(x ?? {}).length), [0, 0, 0], "the registry's old tables are emptied");
    assert.ok((await t.box.audit()).some((e) => e.action === 'auth.handedOver'), 'the hand-over is audited');

    // The bucket kept its count: the next failure is its third.
    const { sessionId: third } = await t.box.startSession();
    await t.box.sessionInput(third, { type: 'phone', phone: STRANGER });
    const answer = await t.box.sessionInput(third, { type: 'pin', pin: wrongPin(pin) });
    assert.is(answer.error, 'AUTH_FAILED');
    await t.box.sessionInput(third, { type: 'cancel' });
    await t.box.idle();
    assert.is(t.box.supervisor.view<AuthCtx>(AUTH)!.ctx.kioskThrottles['1']?.failures, 3);

    // The citizen collects with the PIN from the SMS sent before the upgrade.
    const sessionId = await authenticate(t, pin, PHONE);
    await answerBirthDate(t, sessionId);
    await passDoor(t, compartmentId);
    assert.is(t.box.pickup('V-UP-1')!.status, 'COLLECTED');
    assert.equal(Object.keys(t.box.supervisor.view<AuthCtx>(AUTH)!.ctx.credentials), [], 'its hash died with the collection');
    await t.box.close();
  });
});

test("an auth actor whose state was lost: each READY pickup gets a new PIN by SMS, the old one opens nothing, the new one collects", async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-auth-reset-', async (storage) => {
    // Two known PINs, so that the old one is surely not the new one.
    let t = await testBox({ storage }, { clock, generatePin: () => '111111' });
    const { pin: old, compartmentId } = await readyPickup(t, 'V-RESET-1');
    await t.box.close();
    // A maintainer removed the auth actor's record (say, after it failed for good).
    const persistence = await openPersistence(storage);
    await persistence.commit({ actors: [{ address: AUTH, deleted: true }] });
    await persistence.close();

    t = await testBox({ storage }, { clock, generatePin: () => '222222' });
    await t.box.idle();
    const p = t.box.pickup('V-RESET-1')!;
    assert.is(p.status, 'READY');
    assert.is(p.pinSerial, 2, 'a new PIN was made');
    assert.ok((await t.box.audit()).some((e) => e.action === 'pin.reissuedAfterAuthReset' && e.subject === 'V-RESET-1'), 'audited');
    // The restarted box's gateway: the first SMS went out before the restart.
    const sms = t.hw.sms.to(PHONE);
    assert.is(sms.length, 1, 'the citizen got a new SMS');
    const fresh = sms.at(-1)!.text.match(/PIN: (\d{6})/)![1]!;
    assert.is(t.box.supervisor.view<AuthCtx>(AUTH)!.ctx.credentials[p.id]?.serial, 2);
    assert.equal([old, fresh], ['111111', '222222']);
    const { sessionId: tried } = await t.box.startSession();
    await t.box.sessionInput(tried, { type: 'phone', phone: PHONE });
    assert.is((await t.box.sessionInput(tried, { type: 'pin', pin: old })).error, 'AUTH_FAILED', 'the old PIN opens nothing');
    await t.box.sessionInput(tried, { type: 'cancel' });
    await t.box.idle();
    const sessionId = await authenticate(t, fresh, PHONE);
    await answerBirthDate(t, sessionId);
    await passDoor(t, compartmentId);
    assert.is(t.box.pickup('V-RESET-1')!.status, 'COLLECTED');
    await t.box.close();
  });
});

test.run();
