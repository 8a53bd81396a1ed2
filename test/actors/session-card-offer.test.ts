import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sessionActor, type SessionCtx } from '../../actors/session.js';

// Whether a citizen is offered the old ID card as second factor is the card reader's to say: it
// alone knows whether it and the shredder work (no other actor keeps a copy). The session asks it
// as the number is given, so the answer is in before the PIN is checked and the PIN's way does not
// wait for the reader; the card is offered only where the pickup has an old ID registered and the
// reader said yes.

const session = sessionActor({ inactivityMs: 60_000, lingerMs: 5_000, maxPinRejections: 3, timeZone: 'Europe/Berlin' });
const fresh: SessionCtx = session.init({ id: 'k1-1', kioskId: '1' }, 'session/k1-1');
const step = (ctx: SessionCtx, event: Parameters<typeof session.step>[1]) => session.step(ctx, { now: 1_000, ...event });

/** What the reader echoes of an offer in its answer (everything but the type and the session). */
const answerTo = (offer: unknown) => {
  const { type: _type, sessionId: _session, ...echo } = offer as { type: string; sessionId: string };
  return echo as { attempt: number };
};

type Sent = { to: string; message: { type: string }; aside?: true };
const sends = (effects: ReturnType<typeof session.step>['effects']) => (effects.filter((e) => e.type === 'send') as Sent[]).map((e) => [e.to, e.message.type, e.aside ?? false]);

/** The session after the number and a PIN: the offer went to the reader with the number, the PIN is with the auth actor. */
function checking(): { ctx: SessionCtx; effects: ReturnType<typeof session.step>['effects']; offer: ReturnType<typeof session.step>['effects'] } {
  const atPin = step(fresh, { type: 'input.phone', phone: '+4915228817386' });
  return { ...step(atPin.ctx, { type: 'input.pin', pin: '123456' }), offer: atPin.effects };
}

test('session: the reader is asked with the number, aside (a failed reader cannot fail the input); the PIN goes to the auth actor alone', () => {
  const { ctx, effects, offer } = checking();
  assert.equal(sends(offer), [['reader/1', 'offer', true]]);
  assert.is(ctx.step, 'checkingPin');
  assert.equal(sends(effects), [['auth', 'auth.pin', false]]);
  // The answer may come while the citizen types the PIN: it is kept for the PIN's acceptance.
  const atPin = step(fresh, { type: 'input.phone', phone: '+4915228817386' }).ctx;
  const answered = step(atPin, { type: 'card.offer', possible: true, attempt: 1 }).ctx;
  assert.equal([answered.step, answered.cardOffer], ['pin', true]);
  const accepted = step(step(answered, { type: 'input.pin', pin: '123456' }).ctx, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: true }).ctx;
  assert.equal([accepted.step, accepted.oldIdPossible], ['factor', true]);
  // "I have not received an SMS" gives the number too: the reader is asked then.
  assert.equal(sends(step(fresh, { type: 'input.lostPin', phone: '+4915228817386' }).effects), [['auth', 'pin.resend', false], ['reader/1', 'offer', true]]);
});

test('session: the reader answered first: the accepted PIN goes on at once, to the card or to the birth date', () => {
  const base = checking().ctx;
  for (const possible of [true, false]) {
    const answered = step(base, { type: 'card.offer', possible, attempt: 1 }).ctx;
    assert.is(answered.step, 'checkingPin', 'the PIN is still being checked');
    const after = step(answered, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: true }).ctx;
    assert.equal([after.step, after.oldIdPossible], possible ? ['factor', true] : ['birthDate', false]);
  }
});

test('session: the PIN was accepted first: the session waits for the reader, then goes on', () => {
  const waiting = step(checking().ctx, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: true });
  assert.is(waiting.ctx.step, 'checkingPin', 'the panel gets its answer once the reader said');
  assert.ok(waiting.effects.some((e) => e.type === 'schedule' && (e as { key: string }).key === 'cardOffer'), 'a failed reader is not waited for long');
  const offered = step(waiting.ctx, { type: 'card.offer', possible: true, attempt: 1 });
  assert.equal([offered.ctx.step, offered.ctx.oldIdPossible], ['factor', true]);
  assert.ok(offered.effects.some((e) => e.type === 'cancel' && (e as { key: string }).key === 'cardOffer'));
});

test('session: no old ID registered: the birth date, whatever the reader says', () => {
  const answered = step(checking().ctx, { type: 'card.offer', possible: true, attempt: 1 }).ctx;
  const after = step(answered, { type: 'auth.pinAccepted', documentKind: 'PASSPORT', oldIdRegistered: false }).ctx;
  assert.equal([after.step, after.oldIdPossible], ['birthDate', false]);
});

test('session: a reader that failed for good (its offer came back) or never answers leaves the birth date', () => {
  const waiting = step(checking().ctx, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: true }).ctx;
  const bounced = step(waiting, { type: 'delivery.failed', to: 'reader/1', messageType: 'offer' }).ctx;
  assert.equal([bounced.step, bounced.oldIdPossible], ['birthDate', false]);
  const timedOut = step(waiting, { type: 'card.offerTimeout' }).ctx;
  assert.equal([timedOut.step, timedOut.oldIdPossible], ['birthDate', false]);
  // Bounced before the PIN was accepted: remembered as "no card".
  const early = step(checking().ctx, { type: 'delivery.failed', to: 'reader/1', messageType: 'offer' }).ctx;
  assert.is(step(early, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: true }).ctx.step, 'birthDate');
  // Some other message of the session that bounced changes nothing here.
  assert.is(step(waiting, { type: 'delivery.failed', to: 'auth', messageType: 'auth.pin' }).ctx, waiting);
  // An earlier number's offer that crashed the reader, sent back late, says nothing of the reader now;
  // the last one's does.
  assert.is(step(waiting, { type: 'delivery.failed', to: 'reader/1', messageType: 'offer', crashed: true, message: { attempt: 0 } }).ctx, waiting);
  const last = step(waiting, { type: 'delivery.failed', to: 'reader/1', messageType: 'offer', crashed: true, message: { attempt: waiting.offerAttempt! } }).ctx;
  assert.equal([last.step, last.oldIdPossible], ['birthDate', false]);
});

test('session: an acceptance committed by an earlier version, which decided the card itself, is followed as it is', () => {
  const after = step(checking().ctx, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdPossible: true }).ctx;
  assert.equal([after.step, after.oldIdPossible], ['factor', true]);
});

// The reader answers in order, so the answer to the offer made with the number of a wrong PIN can
// only come late, after the number was given again: it arrives first and must not stand for the
// next one's, which the reader gave later (the shredder jammed in between, say).
test('session: a late answer to the offer made with an earlier number does not stand for the answer to this one\'s', () => {
  const first = checking().ctx;
  const rejected = step(first, { type: 'auth.rejected', retryAt: null }).ctx;
  const again = step(rejected, { type: 'input.phone', phone: '+4915228817386' });
  const second = step(again.ctx, { type: 'input.pin', pin: '654321' });
  const offers = again.effects.flatMap((e) => (e.type === 'send' && e.message.type === 'offer' ? [e.message] : []));
  const [firstOffer] = checking().offer.flatMap((e) => (e.type === 'send' && e.message.type === 'offer' ? [e.message] : []));
  assert.is(offers.length, 1);
  assert.is.not(JSON.stringify(offers[0]), JSON.stringify(firstOffer), 'each number\'s offer can be told apart');
  const lateFirst = step(second.ctx, { type: 'card.offer', possible: true, ...answerTo(firstOffer) }).ctx;
  const thisOne = step(lateFirst, { type: 'card.offer', possible: false, ...answerTo(offers[0]) }).ctx;
  const after = step(thisOne, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: true }).ctx;
  assert.equal([after.step, after.oldIdPossible], ['birthDate', false], 'the reader\'s answer to the last offer counts');
});

// The reader said yes, the citizen chose the card, and the reader failed for good meanwhile: its
// `accept` comes back. The panel goes on with the birth date, as for a reader that says it cannot
// take a card, not after the minute of the time limit.
test('session: the card chosen, but the reader failed for good before it took the request: on to the birth date at once', () => {
  const answered = step(checking().ctx, { type: 'card.offer', possible: true, attempt: 1 }).ctx;
  const atFactor = step(answered, { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: true }).ctx;
  const atCard = step(atFactor, { type: 'input.factor', factor: 'oldId' }).ctx;
  assert.is(atCard.step, 'card');
  const bounced = step(atCard, { type: 'delivery.failed', to: 'reader/1', messageType: 'accept' }).ctx;
  assert.equal([bounced.step, bounced.oldIdPossible, bounced.error], ['birthDate', false, 'CARD_UNAVAILABLE']);
});

test.run();
