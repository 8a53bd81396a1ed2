import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createMercuriusServer, createYogaServer } from '../../src/server/index.js';
import { readyPickup, register, testBox, wrongPin } from '../helpers.js';
import { ENGINES, HARNESS, KIOSK, MONITOR, PHONE_IN, PIN_IN, STAFF, START, TOKENS, codeOf, using } from './support.js';

/**
 * Attack: use a stolen or misused token beyond its role. A kiosk token (the panel, physically the
 * most exposed) must not reach staff actions — above all `reissuePin`, which would unlock a locked
 * pickup and send a fresh PIN — and the harness must not exist on a server started without it.
 */

const STAFF_MUTATIONS: Array<[string, string]> = [
  ['loadPickup', `mutation { loadPickup(reference: "V-SEC-R2") { status } }`],
  ['reissuePin', `mutation { reissuePin(reference: "V-SEC-R1") { status } }`],
  ['retrievePickup', `mutation { retrievePickup(reference: "V-SEC-R1") { status } }`],
  ['liftPickupQuarantine', `mutation { liftPickupQuarantine(reference: "V-SEC-R1") { status } }`],
  ['setCompartmentService', `mutation { setCompartmentService(id: "A01", inService: false, reason: "x") { inService } }`],
  ['clearCompartmentFault', `mutation { clearCompartmentFault(id: "A01") { state } }`],
  ['clearShredder', `mutation { clearShredder(binEmptied: true) { shredder { state } } }`],
  ['acknowledgeAlarm', `mutation { acknowledgeAlarm(id: "locked:P1") { id } }`],
  ['registerPickup', `mutation { registerPickup(input: { reference: "V-SEC-R9", documentKind: ID_CARD, phone: "0152 28817386", birthDate: "1980-04-12" }) { status } }`],
  ['cancelPickup', `mutation { cancelPickup(reference: "V-SEC-R1") { status } }`],
];

for (const engine of ENGINES) {
  const test = suite(`security: roles (${engine})`);

  test('a kiosk token cannot do staff or integration actions: FORBIDDEN, and nothing changes', async () => {
    await using(engine, async (s) => {
      const { pin } = await readyPickup(s, 'V-SEC-R1');
      await register(s.box, 'V-SEC-R2', { phone: '0152 28817387' });
      // Lock V-SEC-R1 with five wrong PINs, so a reissue would be worth stealing.
      for (let i = 0; i < 5; i++) {
        await s.box.advance(3_600_000);
        const { data } = await s.gql(START, {}, KIOSK);
        const id = data!.startSession.id as string;
        await s.gql(PHONE_IN, { id, phone: '0152 28817386' }, KIOSK);
        await s.gql(PIN_IN, { id, pin: wrongPin(pin) }, KIOSK);
        await s.gql(`mutation($id: ID!) { cancelSession(sessionId: $id) { step } }`, { id }, KIOSK);
      }
      assert.is(s.box.pickup('V-SEC-R1')!.status, 'LOCKED');
      const before = {
        r1: { ...s.box.pickup('V-SEC-R1')! },
        r2: { ...s.box.pickup('V-SEC-R2')! },
        audit: (await s.box.audit(1, 100_000)).length,
        sms: s.hw.sms.sent.length,
        a01: s.box.compartment('A01'),
        alarms: s.box.alarms(true).length,
      };
      for (const [name, mutation] of STAFF_MUTATIONS) {
        const r = await s.gql(mutation, {}, KIOSK);
        assert.is(codeOf(r), 'FORBIDDEN', name);
        assert.not.ok(r.data, name);
      }
      // Reads meant for staff and integrations are closed too.
      for (const query of [`{ pickups { totalCount } }`, `{ auditLog { edges { cursor } } }`, `{ alarms { id } }`]) {
        assert.is(codeOf(await s.gql(query, {}, KIOSK)), 'FORBIDDEN', query);
      }
      await s.box.idle();
      assert.equal(s.box.pickup('V-SEC-R1'), before.r1, 'the locked pickup is untouched: no reissue, no retrieval, no cancel');
      assert.equal(s.box.pickup('V-SEC-R2'), before.r2, 'the registered pickup was not loaded');
      assert.is((await s.box.audit(1, 100_000)).length, before.audit, 'no audited action');
      assert.is(s.hw.sms.sent.length, before.sms, 'no new PIN was sent');
      assert.equal(s.box.compartment('A01'), before.a01);
      assert.is(s.box.alarms(true).length, before.alarms);
      assert.is(s.box.pickup('V-SEC-R9'), undefined);
      // The same mutation with a staff token works, so the refusal was the role.
      const reissued = await s.gql(`mutation { reissuePin(reference: "V-SEC-R1") { status } }`, {}, STAFF);
      assert.is(reissued.data!.reissuePin.status, 'READY');
    });
  });

  test('a server started without the harness refuses every harness mutation, with any token', async () => {
    await using(
      engine,
      async (s) => {
        await readyPickup(s, 'V-SEC-H1');
        const { data } = await s.gql(START, {}, KIOSK);
        const id = data!.startSession.id as string;
        await s.gql(PHONE_IN, { id, phone: '0152 28817386' }, KIOSK);
        const now = s.clock.now();
        const payload = JSON.stringify({ documentKind: 'ID_CARD', oldIdPossible: false });
        const attempts = [
          // Skipping the PIN check by telling the session it passed.
          [`mutation($to: String!, $p: String) { injectMessage(to: $to, type: "auth.pinAccepted", payloadJson: $p) }`, { to: `session/${id}`, p: payload }],
          [`mutation { advanceClock(ms: 3600000) }`, {}],
          [`mutation { simulateDoor(compartmentId: "A01", open: true, force: true) { door } }`, {}],
          [`mutation { simulateShredderJam }`, {}],
          [`{ traceEntries { seq } }`, {}],
        ] as const;
        for (const [query, variables] of attempts) {
          assert.is(codeOf(await s.gql(query, variables, HARNESS)), 'UNAUTHENTICATED', `the harness token is not honoured: ${query}`);
          for (const token of [KIOSK, STAFF]) assert.is(codeOf(await s.gql(query, variables, token)), 'FORBIDDEN', query);
        }
        await s.box.idle();
        assert.is(s.box.session(id)!.step, 'pin', 'the session was not told the PIN passed');
        assert.is(s.clock.now(), now, 'the clock did not move');
        assert.is(s.box.compartment('A01')!.door, 'closed');
        assert.is(s.box.compartment('A01')!.fault, null);
        assert.is(s.box.trace.entries().filter((e) => e.from === 'harness').length, 0, 'nothing was injected');
        // The monitor may read the trace, but not drive anything.
        assert.is(codeOf(await s.gql(`mutation { advanceClock(ms: 1) }`, {}, MONITOR)), 'FORBIDDEN');
      },
      { server: { harness: false } },
    );
  });

  test.run();
}

const construction = suite('security: roles (server construction)');

construction('a production server cannot be built with the harness, on either engine', async () => {
  const t = await testBox({ kiosks: ['1', '2'] });
  try {
    for (const create of [createYogaServer, createMercuriusServer]) {
      assert.throws(() => create(t.box, { tokens: TOKENS, production: true, harness: true }), /harness/);
    }
  } finally {
    await t.box.close();
  }
});

construction.run();
