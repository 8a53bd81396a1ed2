import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { gatedStore, settle } from '../support/slow-store.js';
import { PHONE, readyPickup, testBox, type TestBox } from '../helpers.js';

// A session that ends while its PIN is being checked (its time ran out, the citizen pressed
// cancel) may still be matched: the pickup is then claimed for a session that is over, and the
// session gives the claim back when the match reaches it. Here the disk stalls, so the match comes
// long after the session's final screen (5 s): the session waits for it, and the next citizen's
// PIN opens the pickup at once, not after the claim's 5 minutes.

const SESSION_TIMEOUT_MS = 60_000;

/** A box whose every transaction can be held, as a stalled disk holds them. */
async function stallableBox() {
  const inner = await openPersistence('memory:');
  const gate = gatedStore(inner);
  const t = await testBox({ sessionTimeoutMs: SESSION_TIMEOUT_MS }, { persistence: { ...inner, commit: gate.persistence.commit } });
  return { t, gate };
}

/** Moves the clock forward without waiting for the box to go quiet (a held transaction never lets it). */
async function elapse(t: TestBox, ms: number): Promise<void> {
  await t.clock.advance(ms, settle);
}

test('a PIN matched 70 s after its session ended: the session gives the claim back, the next session opens the pickup', async () => {
  const { t, gate } = await stallableBox();
  const { pin } = await readyPickup(t, 'V-LATE');
  const { sessionId: first } = await t.box.startSession();
  await t.box.sessionInput(first, { type: 'phone', phone: PHONE });
  await t.box.idle();

  // The disk stalls: the pickup's claim for the first session is not written, so its answer waits.
  gate.state.open = false;
  const typed = t.box.sessionInput(first, { type: 'pin', pin }).catch((error: unknown) => error);
  for (let i = 0; i < 20 && gate.held.length === 0; i++) await settle();
  assert.ok(gate.held.length > 0, 'a transaction is held');

  // The session times out while its PIN is checked, and its final screen goes by.
  await elapse(t, SESSION_TIMEOUT_MS + 1_000);
  await typed; // (answered ASK_TIMEOUT after 10 s: the check outlasted the API's wait)
  assert.is(t.box.session(first)?.step, 'done', 'the session timed out');
  await elapse(t, 10_000);

  // The disk comes back: the pickup is claimed for the first session, whose match arrives now.
  gate.openAll();
  await t.box.idle();
  assert.is(t.box.pickup('V-LATE')?.status, 'READY');

  // The next citizen, seconds later: the claim was given back.
  const { sessionId: second } = await t.box.startSession();
  await t.box.sessionInput(second, { type: 'phone', phone: PHONE });
  const view = await t.box.sessionInput(second, { type: 'pin', pin });
  assert.is(view.error, null, `the PIN is accepted (error ${view.error})`);
  assert.is(view.step, 'factor');
  await t.box.close();
});

test('a session that ended with its PIN being checked goes once the answer came and its final screen is over', async () => {
  const { t, gate } = await stallableBox();
  const { pin } = await readyPickup(t, 'V-LATE');
  const { sessionId } = await t.box.startSession();
  await t.box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
  await t.box.idle();
  gate.state.open = false;
  const typed = t.box.sessionInput(sessionId, { type: 'pin', pin }).catch((error: unknown) => error);
  for (let i = 0; i < 20 && gate.held.length === 0; i++) await settle();
  await t.box.sessionInput(sessionId, { type: 'cancel' });
  await typed;
  await elapse(t, 10_000);
  assert.is(t.box.session(sessionId)?.step, 'done', 'waiting for the answer to its PIN');
  gate.openAll();
  await t.box.idle();
  assert.is(t.box.session(sessionId), undefined, 'gone once the answer came');
  await t.box.close();
});

test.run();
