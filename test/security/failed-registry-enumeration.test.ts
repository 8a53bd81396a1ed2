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

type Input = Parameters<Awaited<ReturnType<typeof testBox>>['box']['sessionInput']>[1];

/** The panel's answer to the last of `inputs` in a new session: its step and error, or the rejection's code. */
async function answer(t: Awaited<ReturnType<typeof testBox>>, inputs: Input[]): Promise<string> {
  const { sessionId } = await t.box.startSession();
  try {
    let view: Awaited<ReturnType<typeof t.box.sessionInput>> | null = null;
    for (const input of inputs) view = await t.box.sessionInput(sessionId, input);
    return `${view?.step} ${String(view?.error)}`;
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
  const pinFor = (phone: string): Input[] => [{ type: 'phone', phone }, { type: 'pin', pin: wrongPin(pin) }];
  const known = await answer(t, pinFor(PHONE));
  const unknown = await answer(t, pinFor(STRANGER));
  assert.is(known, 'phone AUTH_FAILED');
  assert.is(known, unknown, `known number: ${known}, unknown number: ${unknown}`);
  await t.box.close();
});

test('with the registry failed, "I have not received an SMS" reads the same for a known and an unknown number', async () => {
  const t = await testBox({ throttle: { free: 1_000 } });
  await readyPickup(t, 'V-FR-2');
  for (let i = 0; i < 6; i++) t.box.supervisor.post(REGISTRY, { type: 'pickup.cancel', by: 'bug' });
  await t.box.idle();
  const known = await answer(t, [{ type: 'lostPin', phone: PHONE }]);
  const unknown = await answer(t, [{ type: 'lostPin', phone: STRANGER }]);
  assert.is(known, unknown, `known number: ${known}, unknown number: ${unknown}`);
  await t.box.close();
});

test.run();
