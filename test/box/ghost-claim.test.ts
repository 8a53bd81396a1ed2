import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AUTH } from '../../actors/messages.js';
import { PHONE, readyPickup, testBox } from '../helpers.js';

// A session's PIN goes to the auth actor and, on a match, from there to the registry
// (`pin.matched`); the session's end goes straight to the registry (`session.ended`). Before the
// auth actor both went session → registry, in order, so the end always came after the check and
// released the claim. Now the end can overtake the match.

test('a session cancelled while its right PIN is being checked leaves no claim behind: the citizen can start again at once', async () => {
  const t = await testBox({ throttle: { free: 1_000_000 }, kiosks: ['1', '2'] });
  const { pin } = await readyPickup(t, 'V-GHOST-1');
  const { sessionId } = await t.box.startSession();
  await t.box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
  // Other panels' PIN checks keep the auth actor busy for a moment (its mailbox is not empty).
  for (let i = 0; i < 200; i++) t.box.supervisor.post(AUTH, { type: 'auth.pin', sessionId: `other-${i}`, kioskId: '2', phone: `+4915228${String(900_000 + i)}`, pin: '000000' });
  // The PIN, and at once "cancel" (a second key press, or the 60 s timeout at that moment).
  const checking = t.box.sessionInput(sessionId, { type: 'pin', pin }).catch((error: unknown) => error);
  await t.box.sessionInput(sessionId, { type: 'cancel' }).catch(() => undefined);
  await checking;
  await t.box.idle();
  assert.is(t.box.session(sessionId)?.step ?? 'done', 'done');
  const ghost = t.box.pickup('V-GHOST-1')!.claim;
  // The citizen tries again at once.
  const again = await t.box.startSession();
  await t.box.sessionInput(again.sessionId, { type: 'phone', phone: PHONE });
  const answer = await t.box.sessionInput(again.sessionId, { type: 'pin', pin });
  assert.is(answer.error, null, `the right PIN is answered ${answer.error}; the pickup was claimed by ${JSON.stringify(ghost)}, a session that had ended`);
  await t.box.close();
});

test.run();
