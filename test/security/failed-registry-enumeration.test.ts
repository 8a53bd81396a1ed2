import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REGISTRY } from '../../actors/messages.js';
import { PHONE, readyPickup, testBox, wrongPin } from '../helpers.js';
import { rejectionCode } from '../domain/assert-code.js';

// The registry failed for good (a bug; health fails, staff are alarmed). The auth actor still
// checks PINs: does the panel's answer to a wrong PIN still read the same for a number with a
// pickup and for a number without one? Before the auth actor, every PIN check was refused alike
// (ACTOR_FAILED), since the registry ran it.

const STRANGER = '+4915228817399';

/** The panel's answer to `pin` typed after `phone`: the error code, or the rejection's code. */
async function answer(t: Awaited<ReturnType<typeof testBox>>, phone: string, pin: string): Promise<string> {
  const { sessionId } = await t.box.startSession();
  await t.box.sessionInput(sessionId, { type: 'phone', phone });
  try {
    const view = await t.box.sessionInput(sessionId, { type: 'pin', pin });
    return String(view.error);
  } catch (error) {
    return String(await rejectionCode(Promise.reject(error)));
  } finally {
    await t.box.idle();
    if (t.box.session(sessionId) && t.box.session(sessionId)!.step !== 'done') await t.box.sessionInput(sessionId, { type: 'cancel' }).catch(() => undefined);
    await t.box.idle();
  }
}

test('with the registry failed, a wrong PIN reads the same for a known and an unknown number', async () => {
  const t = await testBox({ throttle: { free: 1_000 } });
  const { pin } = await readyPickup(t, 'V-FR-1');
  for (let i = 0; i < 6; i++) t.box.supervisor.post(REGISTRY, { type: 'pickup.cancel', by: 'bug' });
  await t.box.idle();
  assert.is(t.box.supervisor.view(REGISTRY)!.status, 'failed');
  const known = await answer(t, PHONE, wrongPin(pin));
  const unknown = await answer(t, STRANGER, wrongPin(pin));
  assert.is(known, unknown, `known number: ${known}, unknown number: ${unknown}`);
  await t.box.close();
});

/** The panel's answer to "I have not received an SMS" for `phone`. */
async function lostPin(t: Awaited<ReturnType<typeof testBox>>, phone: string): Promise<string> {
  const { sessionId } = await t.box.startSession();
  try {
    const view = await t.box.sessionInput(sessionId, { type: 'lostPin', phone });
    return `${view.step} ${String(view.error)}`;
  } catch (error) {
    return String(await rejectionCode(Promise.reject(error)));
  } finally {
    await t.box.idle();
    if (t.box.session(sessionId) && t.box.session(sessionId)!.step !== 'done') await t.box.sessionInput(sessionId, { type: 'cancel' }).catch(() => undefined);
    await t.box.idle();
  }
}

test('with the registry failed, "I have not received an SMS" reads the same for a known and an unknown number', async () => {
  const t = await testBox({ throttle: { free: 1_000 } });
  await readyPickup(t, 'V-FR-2');
  for (let i = 0; i < 6; i++) t.box.supervisor.post(REGISTRY, { type: 'pickup.cancel', by: 'bug' });
  await t.box.idle();
  const known = await lostPin(t, PHONE);
  const unknown = await lostPin(t, STRANGER);
  assert.is(known, unknown, `known number: ${known}, unknown number: ${unknown}`);
  await t.box.close();
});

test.run();
