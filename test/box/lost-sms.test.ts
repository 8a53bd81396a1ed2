import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PHONE, lastPin, readyPickup, testBox, wrongPin, type TestBox } from './../helpers.js';

// "I have not received an SMS" at the panel: a new PIN for a READY pickup of the number, within a
// daily budget; the old PIN dies; the answer is the same whether anything exists; throttled like
// PIN attempts; audited without the number in clear.

const UNKNOWN = '+4915228817399';

/** Starts a session and asks for a new PIN for `phone`; the session's view once answered. */
async function askNewPin(t: TestBox, phone = PHONE) {
  const { sessionId } = await t.box.startSession();
  await t.box.idle();
  const view = await t.box.sessionInput(sessionId, { type: 'lostPin', phone });
  await t.box.idle();
  return { sessionId, view };
}

async function endSession(t: TestBox, sessionId: string) {
  if (t.box.session(sessionId)?.step !== 'done') await t.box.sessionInput(sessionId, { type: 'cancel' });
  await t.box.advance(6_000);
}

const smsCount = (t: TestBox, phone = PHONE) => t.hw.sms.to(phone).length;

test('a new PIN goes out; the old one is refused, the new one opens the way', async () => {
  const t = await testBox();
  const { pin: oldPin } = await readyPickup(t, 'V-2026-0501');
  const before = smsCount(t);
  const { sessionId, view } = await askNewPin(t);
  assert.equal([view.step, view.pinRequested, view.error], ['pin', true, null]);
  assert.is(smsCount(t), before + 1, 'one more SMS');
  const newPin = lastPin(t);
  assert.is.not(newPin, oldPin);
  // Straight on at the PIN step of the same session: the old PIN first, refused.
  const refused = await t.box.sessionInput(sessionId, { type: 'pin', pin: oldPin });
  assert.equal([refused.step, refused.error], ['phone', 'AUTH_FAILED']);
  await t.box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
  const accepted = await t.box.sessionInput(sessionId, { type: 'pin', pin: newPin });
  assert.is(accepted.step, 'factor');
  await t.box.close();
});

test('an unknown number gets the very same answer, and no SMS goes anywhere', async () => {
  const t = await testBox();
  await readyPickup(t, 'V-2026-0502');
  const sent = t.hw.sms.sent.length;
  const known = await askNewPin(t);
  await endSession(t, known.sessionId);
  const unknown = await askNewPin(t, UNKNOWN);
  const strip = (v: typeof known.view) => ({ ...v, id: '', expiresAt: 0 });
  assert.equal(strip(unknown.view), strip(known.view));
  assert.is(t.hw.sms.sent.length, sent + 1, 'only the known number got a PIN');
  assert.is(smsCount(t, UNKNOWN), 0);
  await t.box.close();
});

test('two new PINs a day per pickup; the third request is answered alike but sends nothing; the next day again', async () => {
  const t = await testBox();
  await readyPickup(t, 'V-2026-0503');
  const before = smsCount(t);
  const views = [];
  for (let i = 0; i < 3; i++) {
    const { sessionId, view } = await askNewPin(t);
    views.push({ ...view, id: '', expiresAt: 0 });
    await endSession(t, sessionId);
  }
  assert.is(smsCount(t), before + 2, 'two new PINs, not three');
  assert.equal(views[2], views[0], 'the refusal reads like a success');
  const audit = await t.box.audit();
  assert.is(audit.filter((a) => a.action === 'pin.resent').length, 2);
  assert.is(audit.filter((a) => a.action === 'pin.resendRefused').length, 1);
  await t.box.advance(24 * 3_600_000);
  await askNewPin(t);
  assert.is(smsCount(t), before + 3, 'a new day, a new budget');
  await t.box.close();
});

test('asking counts like a PIN attempt: past the free ones the number waits, and a PIN waits too; known or not alike', async () => {
  const answers: Record<string, unknown[]> = {};
  for (const phone of [PHONE, UNKNOWN]) {
    const t = await testBox({ throttle: { free: 2, baseMs: 60_000 } });
    const { pin } = await readyPickup(t, 'V-2026-0504');
    answers[phone] = [];
    for (let i = 0; i < 4; i++) {
      const { sessionId, view } = await askNewPin(t, phone);
      answers[phone]!.push([view.step, view.error, view.retryAt === null ? null : view.retryAt - t.clock.now()]);
      await endSession(t, sessionId);
    }
    // The same throttle holds a PIN attempt for the number.
    const { sessionId } = await t.box.startSession();
    await t.box.idle();
    await t.box.sessionInput(sessionId, { type: 'phone', phone });
    const pinTry = await t.box.sessionInput(sessionId, { type: 'pin', pin });
    assert.is(pinTry.error, 'AUTH_THROTTLED', `${phone}: a PIN waits as well`);
    await t.box.close();
  }
  // Three answered (the third reaches the limit), the fourth waits out the rest of the minute.
  assert.equal(answers[PHONE], [['pin', null, null], ['pin', null, null], ['pin', null, null], ['phone', 'AUTH_THROTTLED', 60_000 - 6_000]]);
  assert.equal(answers[UNKNOWN], answers[PHONE], 'an unknown number is throttled alike');
});

test('audited without the number in clear; a new PIN only at the phone step', async () => {
  const t = await testBox();
  await readyPickup(t, 'V-2026-0505');
  const { sessionId } = await askNewPin(t);
  const audit = await t.box.audit();
  const requested = audit.filter((a) => a.action === 'pin.resendRequested');
  assert.is(requested.length, 1);
  assert.equal(audit.filter((a) => a.action === 'pin.resent').map((a) => a.subject), ['V-2026-0505']);
  const text = JSON.stringify(audit);
  for (const form of ['15228817386', '0152 28817386']) assert.not.ok(text.includes(form), `${form} in the audit`);
  // The session is at the PIN step now: a second request there is refused.
  const wrongStep = await t.box.sessionInput(sessionId, { type: 'lostPin', phone: PHONE }).then(
    () => null,
    (error: { code: string }) => error.code,
  );
  assert.is(wrongStep, 'SESSION_WRONG_STEP');
  await t.box.close();
});

test.run();
