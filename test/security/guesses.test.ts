import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AUTH } from '../../actors/messages.js';
import type { AuthCtx } from '../../actors/auth.js';
import { PHONE, PHONE_2, readyPickup } from '../helpers.js';
import { ENGINES, KIOSK, KIOSK_2, PHONE_IN, PIN_IN, START, auditCount, codeOf, using, type GqlResult, type Target } from './support.js';

/**
 * Attack: multiply PIN guesses through the API. One request carries at most one panel input;
 * batches are refused; and however many requests run in parallel, the registry counts every
 * real check, throttles the number after 3 free failures and locks the pickup at 5.
 */

/** PINs handed out in order, so a test knows which guesses are wrong. */
const pins = () => {
  const list = ['482913', '571046', '690357', '735281'];
  let i = 0;
  return () => list[i++ % list.length]!;
};

/** A session of `token`'s kiosk that waits for a number: the current one if it does, else a new one. */
async function sessionAtPhone(s: Target, token: string, current: Map<string, string>): Promise<string> {
  const id = current.get(token);
  if (id && s.box.session(id)?.step === 'phone') return id;
  const started = await s.gql<{ startSession: { id: string } }>(START, {}, token);
  assert.is(started.errors, undefined, JSON.stringify(started.errors));
  current.set(token, started.data!.startSession.id);
  return started.data!.startSession.id;
}

/** Both kiosks at once: the number, then every PIN of `guesses` in parallel on the same session. */
async function storm(s: Target, guesses: string[], current: Map<string, string>, phone = '0152 28817386'): Promise<GqlResult[]> {
  const perKiosk = await Promise.all(
    [KIOSK, KIOSK_2].map(async (token) => {
      const id = await sessionAtPhone(s, token, current);
      const entered = await s.gql(PHONE_IN, { id, phone }, token);
      assert.is(entered.data?.enterPhone?.step, 'pin', JSON.stringify(entered));
      return Promise.all(guesses.map((pin) => s.gql(PIN_IN, { id, pin }, token)));
    }),
  );
  return perKiosk.flat();
}

const errorsOf = (results: GqlResult[]) => results.map((r) => r.data?.enterPin?.error ?? codeOf(r));
const wrongGuesses = (n: number) => Array.from({ length: n }, (_, i) => String(100_000 + i * 7));

for (const engine of ENGINES) {
  const test = suite(`security: guess multiplication (${engine})`);

  test('aliased, fragmented or mixed panel inputs in one request are refused before any check', async () => {
    await using(
      engine,
      async (s) => {
        await readyPickup(s, 'V-SEC-A1');
        const { data } = await s.gql(START, {}, KIOSK);
        const id = data!.startSession.id as string;
        await s.gql(PHONE_IN, { id, phone: '0152 28817386' }, KIOSK);
        const aliases20 = Array.from({ length: 20 }, (_, i) => `g${i}: enterPin(sessionId: $id, pin: "${String(100_000 + i)}") { step }`).join(' ');
        const attacks = [
          `mutation($id: ID!) { a: enterPin(sessionId: $id, pin: "111111") { step } b: enterPin(sessionId: $id, pin: "222222") { step } }`,
          `mutation($id: ID!) { ${aliases20} }`,
          `mutation($id: ID!) { ...A ...B } fragment A on Mutation { a: enterPin(sessionId: $id, pin: "111111") { step } } fragment B on Mutation { b: enterPin(sessionId: $id, pin: "222222") { step } }`,
          `mutation($id: ID!) { enterPin(sessionId: $id, pin: "111111") { step } enterBirthDate(sessionId: $id, birthDate: "12.04.1980") { step } }`,
          `mutation One($id: ID!) { enterPin(sessionId: $id, pin: "111111") { step } } mutation Two($id: ID!) { enterPin(sessionId: $id, pin: "222222") { step } }`,
        ];
        for (const query of attacks) {
          const r = await s.post(JSON.stringify({ query, variables: { id }, operationName: query.includes('One(') ? 'One' : undefined }), KIOSK);
          assert.is(r.body.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX', query);
          assert.not.ok(r.body.data, 'nothing executed');
        }
        // The domain shows it: the session still waits for its first PIN, nothing was counted.
        assert.is(s.box.session(id)!.step, 'pin');
        assert.is(s.box.pickup('V-SEC-A1')!.failedAttempts, 0);
        assert.is(await auditCount(s, 'auth.failed'), 0);
        // One input per request still works.
        const one = await s.gql(PIN_IN, { id, pin: '111111' }, KIOSK);
        assert.is(one.data!.enterPin.error, 'AUTH_FAILED');
        assert.is(s.box.pickup('V-SEC-A1')!.failedAttempts, 1);
      },
      { box: { generatePin: pins() } },
    );
  });

  test('a batched request (JSON array body) is refused as a whole: 400 BATCH_NOT_SUPPORTED, no PIN checked', async () => {
    await using(
      engine,
      async (s) => {
        await readyPickup(s, 'V-SEC-B1');
        const { data } = await s.gql(START, {}, KIOSK);
        const id = data!.startSession.id as string;
        await s.gql(PHONE_IN, { id, phone: '0152 28817386' }, KIOSK);
        const batch = wrongGuesses(5).map((pin) => ({ query: PIN_IN, variables: { id, pin } }));
        const r = await s.post(JSON.stringify(batch), KIOSK);
        assert.is(r.status, 400);
        assert.not.ok(Array.isArray(r.body), 'no per-operation results');
        assert.is(r.body.errors[0].extensions.code, 'BATCH_NOT_SUPPORTED');
        // A batch of one is still a batch.
        const single = await s.post(JSON.stringify([{ query: PIN_IN, variables: { id, pin: '482913' } }]), KIOSK);
        assert.is(single.body.errors[0].extensions.code, 'BATCH_NOT_SUPPORTED');
        assert.is(s.box.session(id)!.step, 'pin');
        assert.is(s.box.pickup('V-SEC-B1')!.failedAttempts, 0);
        assert.is(await auditCount(s, 'auth.failed'), 0);
      },
      { box: { generatePin: pins() } },
    );
  });

  test('parallel guesses on both kiosks for one number: 4 real checks, then AUTH_THROTTLED; the 5th locks the pickup', async () => {
    await using(
      engine,
      async (s) => {
        const { pin } = await readyPickup(s, 'V-SEC-P1');
        const current = new Map<string, string>();
        const guesses = wrongGuesses(10);
        assert.not.ok(guesses.includes(pin));
        let sent = 0;
        const seen: Array<string | undefined> = [];
        for (let round = 0; round < 4; round++) {
          const results = await storm(s, guesses, current);
          sent += results.length;
          seen.push(...errorsOf(results));
        }
        const p = s.box.pickup('V-SEC-P1')!;
        // 80 guesses sent; the registry checked 4 (3 free failures + 1), then the number is throttled.
        assert.is(sent, 80);
        assert.is(p.failedAttempts, 4, 'only real checks are counted');
        assert.is(p.status, 'READY');
        assert.is(await auditCount(s, 'auth.failed', 'V-SEC-P1'), 4, 'every counted failure is audited');
        assert.ok(seen.includes('AUTH_THROTTLED'), 'the panel says AUTH_THROTTLED');
        assert.ok((await auditCount(s, 'auth.throttled')) >= 1);
        assert.is(await auditCount(s, 'auth.pinAccepted'), 0);

        // After the 30 s delay one more check happens, and the fifth failure locks the pickup.
        await s.box.advance(30_000);
        const after = errorsOf(await storm(s, guesses, current));
        assert.ok(after.includes('AUTH_THROTTLED') || after.includes('PICKUP_LOCKED') || after.includes('AUTH_FAILED'));
        const locked = s.box.pickup('V-SEC-P1')!;
        assert.is(locked.failedAttempts, 5);
        assert.is(locked.status, 'LOCKED');
        assert.is(await auditCount(s, 'pickup.locked', 'V-SEC-P1'), 1);

        // Locked means locked: once the throttle is over, even the right PIN is refused and not counted.
        await s.box.advance(2 * 3_600_000);
        const id = await sessionAtPhone(s, KIOSK, current);
        await s.gql(PHONE_IN, { id, phone: '0152 28817386' }, KIOSK);
        const right = await s.gql(PIN_IN, { id, pin }, KIOSK);
        assert.is(right.data!.enterPin.error, 'AUTH_FAILED');
        assert.is(s.box.pickup('V-SEC-P1')!.failedAttempts, 5);
        assert.is(s.box.pickup('V-SEC-P1')!.status, 'LOCKED');
        assert.is(await auditCount(s, 'auth.pinAccepted'), 0);
      },
      { box: { generatePin: pins() } },
    );
  });

  test('one PIN sprayed over many numbers at one kiosk: the kiosk throttle stops it, the other kiosk still serves', async () => {
    await using(
      engine,
      async (s) => {
        const { pin: pin1 } = await readyPickup(s, 'V-SEC-S1');
        const { pin: pin2 } = await readyPickup(s, 'V-SEC-S2', { phone: '0152 28817387' });
        const spray = '000000';
        assert.not.ok([pin1, pin2].includes(spray));
        // Unknown numbers, and one registered number (PHONE) among them.
        const numbers = ['+4915228817390', '+4915228817391', PHONE, '+4915228817392', '+4915228817393'];
        const current = new Map<string, string>();
        const answers: string[] = [];
        for (const phone of numbers) {
          const id = await sessionAtPhone(s, KIOSK, current);
          await s.gql(PHONE_IN, { id, phone }, KIOSK);
          const r = await s.gql(PIN_IN, { id, pin: spray }, KIOSK);
          answers.push(r.data!.enterPin.error);
        }
        // Four failures at kiosk 1, then its throttle: the fifth number is not even checked.
        assert.equal(answers, ['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'AUTH_THROTTLED']);
        const auth = s.box.supervisor.view<AuthCtx>(AUTH)!.ctx;
        assert.is(auth.kioskThrottles['1']!.failures, 4);
        assert.ok(auth.kioskThrottles['1']!.until > s.clock.now());
        // Each sprayed number failed once only: the number counters alone would never have stopped this.
        const buckets = Object.values(auth.numberThrottles);
        assert.is(buckets.length, 4);
        assert.ok(buckets.every((t) => t.failures === 1));
        assert.is(s.box.pickup('V-SEC-S1')!.failedAttempts, 1);
        // While kiosk 1 is throttled, even a right number and PIN are not checked there …
        const id = await sessionAtPhone(s, KIOSK, current);
        await s.gql(PHONE_IN, { id, phone: PHONE_2 }, KIOSK);
        const blocked = await s.gql(PIN_IN, { id, pin: pin2 }, KIOSK);
        assert.is(blocked.data!.enterPin.error, 'AUTH_THROTTLED');
        assert.is(s.box.pickup('V-SEC-S2')!.failedAttempts, 0);
        assert.is(s.box.pickup('V-SEC-S2')!.claim, null);
        // … and kiosk 2 serves the citizen.
        const other = await sessionAtPhone(s, KIOSK_2, current);
        await s.gql(PHONE_IN, { id: other, phone: PHONE_2 }, KIOSK_2);
        const served = await s.gql(PIN_IN, { id: other, pin: pin2 }, KIOSK_2);
        assert.is(served.data!.enterPin.error, null);
        assert.ok(['factor', 'birthDate'].includes(served.data!.enterPin.step));
      },
      { box: { generatePin: pins() } },
    );
  });

  test.run();
}
