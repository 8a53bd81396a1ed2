import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readyPickup, wrongPin } from '../helpers.js';
import { ENGINES, KIOSK, KIOSK_2, PHONE_IN, PIN_IN, START, using } from './support.js';

/**
 * Attack: find out whether a number is registered (to target a citizen, or to know whom to
 * phish for the PIN). The panel must answer an unknown number exactly as a registered number with
 * a wrong PIN — in the GraphQL data and errors, not only in the session step. That the registry
 * does the same keyed-hash work for both is checked in hmac-parity.test.ts.
 */

/** What a client receives for number then PIN, without the fields that identify the session. */
async function answersFor(s: Parameters<Parameters<typeof using>[1]>[0], token: string, phone: string, pin: string) {
  const { data } = await s.gql(START, {}, token);
  const id = data!.startSession.id as string;
  const phoneAnswer = await s.post(JSON.stringify({ query: PHONE_IN, variables: { id, phone } }), token);
  const pinAnswer = await s.post(JSON.stringify({ query: PIN_IN, variables: { id, pin } }), token);
  return { id, phoneAnswer, pinAnswer };
}

for (const engine of ENGINES) {
  const test = suite(`security: number enumeration (${engine})`);

  test('an unknown number and a wrong PIN give byte-identical GraphQL answers', async () => {
    await using(engine, async (s) => {
      const { pin } = await readyPickup(s, 'V-SEC-E1');
      const guess = wrongPin(pin);
      const unknown = await answersFor(s, KIOSK, '+4915228817399', guess);
      const wrong = await answersFor(s, KIOSK_2, '0152 28817386', guess);
      // Same status, same data, same errors (none), same keys in the same order.
      assert.is(JSON.stringify(unknown.phoneAnswer), JSON.stringify(wrong.phoneAnswer), 'the number step reveals nothing');
      assert.is(JSON.stringify(unknown.pinAnswer), JSON.stringify(wrong.pinAnswer), 'the PIN step reveals nothing');
      assert.equal(unknown.pinAnswer.body, {
        data: { enterPin: { step: 'phone', error: 'AUTH_FAILED', retryAt: null, oldIdPossible: false, compartmentId: null, outcome: null } },
      });
      // The session views (as staff or a monitor would read them) agree as well.
      const view = (id: string) => {
        const { id: _id, kioskId: _k, ...rest } = s.box.session(id)!;
        return rest;
      };
      assert.equal(view(unknown.id), view(wrong.id));
      // And the domain counted the wrong PIN against the pickup, while the unknown number left no trace of the number.
      assert.is(s.box.pickup('V-SEC-E1')!.failedAttempts, 1);
      const failed = (await s.box.audit(1, 1_000)).filter((r) => r.action === 'auth.failed');
      assert.is(failed.length, 2);
      assert.not.match(JSON.stringify(failed), /15228817399/);
    });
  });

  test('the third failure of each kind reads the same too (both end the session alike)', async () => {
    await using(engine, async (s) => {
      const { pin } = await readyPickup(s, 'V-SEC-E2');
      const guess = wrongPin(pin);
      const run = async (token: string, phone: string) => {
        const { data } = await s.gql(START, {}, token);
        const id = data!.startSession.id as string;
        const answers: string[] = [];
        for (let i = 0; i < 3; i++) {
          await s.gql(PHONE_IN, { id, phone }, token);
          answers.push(JSON.stringify((await s.post(JSON.stringify({ query: PIN_IN, variables: { id, pin: guess } }), token)).body));
        }
        return answers;
      };
      // Different kiosks, so that each side has its own kiosk counter; both numbers fail three times.
      const unknown = await run(KIOSK, '+4915228817399');
      const wrong = await run(KIOSK_2, '0152 28817386');
      assert.equal(unknown, wrong);
      assert.match(unknown[2]!, /"outcome":"failed"/);
    });
  });

  test.run();
}
