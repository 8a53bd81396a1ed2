import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CompartmentCtx } from '../../actors/compartment.js';
import { demoCompartments } from '../../src/config.js';
import { BIRTH, testBox, wrongPin } from '../helpers.js';
import { committedPickups } from '../support/committed.js';
import { seeded } from '../support/random.js';

// A seeded random day at the box: registrations, loads, doors opened or not, right and wrong PINs,
// cancelled sessions, time passing. After every step the invariants of the domain must hold.


for (const seed of [1, 2, 3]) {
  test(`seed ${seed}: the registry and the compartments agree after every step of a random day`, async () => {
    const random = seeded(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const t = await testBox({ compartments: demoCompartments(8), hoursPreset: 'always' });
    const phones = ['+4915228817386', '+4915228817387', '+4915228817388'];
    const pins = new Map<string, string>();
    let refs = 0;

    const check = async (step: string) => {
      const pickups = committedPickups(t.box);
      const holders = new Map<string, string>();
      for (const p of Object.values(pickups)) {
        assert.ok(p.failedAttempts <= 5, `${step}: ${p.reference} has ${p.failedAttempts} failures`);
        if (['READY', 'RELEASING', 'LOCKED', 'EXPIRED'].includes(p.status)) assert.ok(p.compartmentId, `${step}: ${p.reference} ${p.status} without a compartment`);
        if (p.compartmentId && p.status !== 'COLLECTED' && p.status !== 'RETURNED') {
          assert.not.ok(holders.has(p.compartmentId), `${step}: ${p.compartmentId} holds two pickups`);
          holders.set(p.compartmentId, p.id);
        }
      }
      for (const c of t.box.config.compartments) {
        const actor = t.box.supervisor.view<CompartmentCtx>(`compartment/${c.id}`)!.ctx;
        if (actor.state === 'occupied') assert.ok(actor.pickupId && pickups[actor.pickupId], `${step}: ${c.id} occupied by an unknown pickup`);
      }
      const intents = (await t.box.audit(1, 100_000)).filter((a) => a.action === 'unlock.intent').length;
      assert.ok(t.hw.locks.pulses.length <= intents, `${step}: ${t.hw.locks.pulses.length} pulses, ${intents} intents`);
    };

    for (let i = 0; i < 120; i++) {
      const action = random();
      let step = '';
      try {
        if (action < 0.2) {
          const ref = `R-${seed}-${++refs}`;
          step = `register ${ref}`;
          await t.box.registerPickup({ reference: ref, documentKind: 'ID_CARD', phone: pick(phones), birthDate: BIRTH });
        } else if (action < 0.4) {
          const registered = t.box.pickups().filter((p) => p.status === 'REGISTERED');
          if (!registered.length) continue;
          const p = pick(registered);
          step = `load ${p.reference}`;
          const { compartmentId } = await t.box.loadPickup(p.reference, 'staff');
          await t.box.advance(2_500);
          if (random() < 0.85 && t.hw.locks.openDoor(compartmentId)) {
            await t.box.idle();
            t.hw.locks.closeDoor(compartmentId);
            await t.box.idle();
            const sms = t.hw.sms.sent.filter((m) => m.id.startsWith(`pin-${p.id}-`)).at(-1);
            if (sms) pins.set(p.reference, /PIN: (\d{6})/.exec(sms.text)![1]!);
          }
        } else if (action < 0.75) {
          const ready = t.box.pickups().filter((p) => p.status === 'READY' && pins.has(p.reference));
          if (!ready.length) continue;
          const p = pick(ready);
          step = `collect ${p.reference}`;
          const { sessionId } = await t.box.startSession();
          await t.box.idle();
          await t.box.sessionInput(sessionId, { type: 'phone', phone: p.phone! });
          await t.box.idle();
          await t.box.sessionInput(sessionId, { type: 'pin', pin: random() < 0.7 ? pins.get(p.reference)! : wrongPin(pins.get(p.reference)!) });
          await t.box.idle();
          const s = t.box.session(sessionId)!;
          if (s.step === 'birthDate') {
            await t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: random() < 0.8 ? BIRTH : '1981-01-01' });
            await t.box.advance(2_500);
            if (t.box.session(sessionId)?.step === 'opening' && random() < 0.8) t.hw.locks.openDoor(p.compartmentId!);
            await t.box.idle();
            t.hw.locks.closeDoor(p.compartmentId!);
          } else if (s.step !== 'done') await t.box.sessionInput(sessionId, { type: 'cancel' });
          await t.box.advance(40_000);
        } else if (action < 0.85) {
          step = 'time passes';
          await t.box.advance(Math.floor(random() * 3) * 86_400_000 + 60_000);
        } else {
          const stuck = t.box.pickups().filter((p) => ['EXPIRED', 'LOCKED'].includes(p.status));
          if (!stuck.length) continue;
          const p = pick(stuck);
          step = `retrieve ${p.reference}`;
          const { compartmentId } = await t.box.retrievePickup(p.reference, 'staff');
          await t.box.advance(2_500);
          if (t.hw.locks.openDoor(compartmentId)) {
            await t.box.idle();
            t.hw.locks.closeDoor(compartmentId);
          }
          await t.box.advance(40_000);
        }
      } catch (error) {
        const code = (error as { code?: string }).code;
        // Refusals with a stable code are part of the game (a full box, a pickup that moved on).
        assert.ok(code && /^[A-Z_]+$/.test(code), `${step}: ${String(error)}`);
      }
      await check(step);
    }
    const ended = t.box.pickups().filter((p) => ['COLLECTED', 'RETURNED'].includes(p.status)).length;
    assert.ok(ended > 0, 'the day saw pickups end');
    await t.box.close();
  });
}

test.run();
