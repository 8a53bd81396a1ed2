import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pickupAddress, REGISTRY } from '../../actors/messages.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { toRegistryPickupsStore } from '../support/legacy-store.js';
import { authenticate, BIRTH, breakActor, MONDAY_10AM, PHONE, readyPickup, testBox, withTempStorage } from '../helpers.js';

// A pickup an earlier version registered lives out its weeks as a row of the registry's table:
// what a session or the auth actor sends to `pickup/<id>` goes to the registry instead. When the
// registry has failed for good, that message comes back to its sender naming the registry, not
// the pickup's address; the panel is still told once, at once: the box cannot hand the document
// out (PICKUP_FAILED, the counter does), and the kiosk's call is answered with that screen, not
// refused with a second code (ACTOR_FAILED) while the screen says another. The same when the
// registry serves on but has quarantined that one row (its partition).

type T = Awaited<ReturnType<typeof testBox>>;

/** A box on a store whose pickup `reference` (READY, its PIN returned) is a row of the registry's table. */
async function withRegistryPickup(reference: string, run: (t: T, pin: string, id: string) => Promise<void>): Promise<void> {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-legacy-failed-', async (storage) => {
    const before = await testBox({ storage }, { clock });
    const { pin } = await readyPickup(before, reference);
    await before.box.close();
    await toRegistryPickupsStore(storage);
    const t = await testBox({ storage }, { clock });
    try {
      await t.box.idle();
      const id = t.box.pickup(reference)!.id;
      assert.is(t.box.supervisor.view(pickupAddress(id)), undefined, 'no actor of its own: a row of the registry');
      await run(t, pin, id);
    } finally {
      await t.box.close();
    }
  });
}

test('the right PIN for such a pickup while the registry has failed: the panel hears PICKUP_FAILED, once, and the call answers with it', async () => {
  await withRegistryPickup('V-OLD-1', async (t, pin) => {
    await breakActor(t, REGISTRY, { type: 'pickup.cancel' });
    const { sessionId } = await t.box.startSession();
    await t.box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
    const answer = await t.box.sessionInput(sessionId, { type: 'pin', pin });
    assert.is(answer.error, 'PICKUP_FAILED');
    assert.is(answer.step, 'done');
  });
});

test('the birth date for such a pickup, its PIN accepted before the registry failed: the panel hears PICKUP_FAILED, once, and the call answers with it', async () => {
  await withRegistryPickup('V-OLD-2', async (t, pin) => {
    const sessionId = await authenticate(t, pin, PHONE);
    await t.box.sessionInput(sessionId, { type: 'factor', factor: 'birthDate' });
    await t.box.idle();
    await breakActor(t, REGISTRY, { type: 'pickup.cancel' });
    const answer = await t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: BIRTH });
    assert.is(answer.error, 'PICKUP_FAILED');
    assert.is(answer.step, 'done');
  });
});

test('the birth date for such a pickup whose row alone the registry quarantined (its PIN accepted before): the panel hears PICKUP_FAILED at once, not at its time-out', async () => {
  await withRegistryPickup('V-OLD-3', async (t, pin, id) => {
    const sessionId = await authenticate(t, pin, PHONE);
    await t.box.sessionInput(sessionId, { type: 'factor', factor: 'birthDate' });
    await t.box.idle();
    // A bug this pickup's data hits, six times: its partition of the registry is quarantined, the registry serves on.
    const poison = {
      type: 'pin.missed',
      pickupId: id,
      get kioskId(): string {
        throw new Error("a bug one pickup's data hits");
      },
    };
    for (let i = 0; i < 6; i++) t.box.supervisor.post(REGISTRY as never, poison as never);
    await t.box.idle();
    assert.is(t.box.supervisor.view(REGISTRY)!.status, 'active', 'the registry serves on');
    assert.ok(t.box.alarms().some((a) => a.code === 'PICKUP_FAILED'), 'the pickup is refused (PICKUP_FAILED alarm)');
    // Answered within the box's own work, with no clock moving: before, it waited for the session's time-out.
    // (Before, the call failed PICKUP_FAILED while the session itself waited in its check until its time-out.)
    let answer: { step?: string; error?: string | null } | undefined;
    void t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: BIRTH }).then(
      (view) => (answer = view),
      (error: unknown) => (answer = { error: `refused: ${String(error)}` }),
    );
    await t.box.idle();
    assert.ok(answer, 'answered at once');
    assert.equal(answer, { ...answer, step: 'done', error: 'PICKUP_FAILED' }, "the call answers with the session's view");
    assert.is(t.box.session(sessionId)?.step, 'done', "the panel's session is over");
  });
});

test.run();
