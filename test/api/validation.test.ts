import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readyPickup } from '../helpers.js';
import { codeOf, ENGINES, HARNESS, INTEGRATION, KIOSK, REGISTER, registration, start } from './support.js';

// Arguments are shape-checked by the Pothos validation plugin before any resolver runs: a bad
// argument gets its catalog code and reaches neither the box nor an attempt counter.

for (const engine of ENGINES) {
  const test = suite(`api argument validation (${engine})`);

  test('a malformed PIN is refused with INVALID_PIN_FORMAT before the session sees it', async () => {
    const s = await start(engine);
    try {
      await readyPickup(s, 'V-VAL-1');
      const started = await s.gql<{ startSession: { id: string } }>('mutation { startSession { id } }', {}, KIOSK);
      const id = started.data!.startSession.id;
      await s.gql('mutation($id: ID!) { enterPhone(sessionId: $id, phone: "0152 28817386") { step } }', { id }, KIOSK);
      const seq = s.box.trace.lastSeq;
      const r = await s.gql('mutation($id: ID!) { enterPin(sessionId: $id, pin: "12a456") { step } }', { id }, KIOSK);
      assert.is(codeOf(r), 'INVALID_PIN_FORMAT');
      assert.not.ok(s.box.trace.entries(seq).some((e) => e.type === 'input.pin' || e.type === 'auth.pin'), 'nothing was sent');
      assert.is(s.box.pickup('V-VAL-1')!.failedAttempts, 0);
      assert.is(s.box.session(id)!.step, 'pin');
    } finally {
      await s.close();
    }
  });

  test('registration arguments of the wrong shape get their codes and register nothing', async () => {
    const s = await start(engine);
    try {
      const tooLong = await s.gql(REGISTER, registration('V'.repeat(41)), INTEGRATION);
      assert.is(codeOf(tooLong), 'INVALID_REFERENCE');
      const letters = await s.gql(REGISTER, registration('V-VAL-2', { phone: 'call me' }), INTEGRATION);
      assert.is(codeOf(letters), 'INVALID_PHONE');
      const documents = await s.gql(REGISTER, registration('V-VAL-3', { documents: 99 }), INTEGRATION);
      assert.is(codeOf(documents), 'INVALID_DOCUMENT_KIND');
      assert.is(s.box.pickups().length, 0);
    } finally {
      await s.close();
    }
  });

  test('the harness cannot move the clock backwards', async () => {
    const s = await start(engine);
    try {
      const before = s.clock.now();
      const r = await s.gql('mutation { advanceClock(ms: -5) }', {}, HARNESS);
      assert.is(codeOf(r), 'BAD_USER_INPUT');
      assert.is(s.clock.now(), before);
    } finally {
      await s.close();
    }
  });

  test.run();
}
