import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pickupAddress } from '../../actors/messages.js';
import type { Pickup } from '../../actors/pickup.js';
import type { Message } from '../../actors/runtime/types.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { rejectionCode } from '../domain/assert-code.js';
import { until } from '../web/until.js';
import { authenticate, lastPin, passDoor, PHONE, readyPickup, register, testBox, type TestBox } from '../helpers.js';

// A pickup's actor that failed for good refuses what comes for it meanwhile: the compartment won
// for its load, the PIN made for it. Revived by staff, it must not stay stuck halfway (LOADING
// with no compartment, READY with no PIN) until the box restarts: it reconciles as after a
// restart, and the citizen's pickup goes on.

/** A message whose handler throws (`new Set(42)`): posted past the harness's check, it crashes the pickup's actor. */
const crashing = (pickupId: string): Message => ({ type: 'sms.missing', pickupId, ids: 42 }) as unknown as Message;

/** Crashes the pickup's actor past the restart intensity (5 in 30 s): failed for good. */
function failPickupActor(t: TestBox, pickupId: string): void {
  for (let i = 0; i < 6; i++) t.box.supervisor.post(pickupAddress(pickupId), crashing(pickupId));
}

const row = (t: TestBox, pickupId: string) => t.box.supervisor.view<Pickup>(pickupAddress(pickupId))!;
const slotHolding = (t: TestBox, pickupId: string): string | undefined => {
  const slots = (t.box.supervisor.view<{ slots: Record<string, { pickupId: string | null }> }>('allocation')!.ctx.slots ?? {}) as Record<string, { pickupId: string | null }>;
  return Object.entries(slots).find(([, s]) => s.pickupId === pickupId)?.[0];
};

test('a pickup whose actor failed while its compartment was being won is loaded again once revived, and that compartment is not lost', async () => {
  // The shared store's claim of a compartment is held until the test lets it go: the actor fails meanwhile.
  const persistence = await openPersistence('memory:');
  let letGo!: () => void;
  const gate = new Promise<void>((resolve) => (letGo = resolve));
  let holding = false;
  const t = await testBox({}, {
    persistence: { ...persistence, claimOnce: async (key, owner) => (holding && (await gate), persistence.claimOnce(key, owner)) },
  });
  try {
    await register(t.box, 'V-REV-1');
    await t.box.idle();
    const id = t.box.pickup('V-REV-1')!.id;
    holding = true;
    const load = t.box.loadPickup('V-REV-1', 'anna');
    await until(() => row(t, id).ctx.status === 'LOADING', 'the pickup loading');
    failPickupActor(t, id);
    await until(() => row(t, id).status === 'failed', 'its actor failed');
    letGo();
    assert.is(await rejectionCode(load), 'PICKUP_FAILED', 'the staff member hears the pickup failed');
    await t.box.idle();
    const won = slotHolding(t, id);
    assert.ok(won, 'the allocation actor won a compartment for it, whose news the failed actor refused');

    await t.box.reviveActor(pickupAddress(id), 'anna');
    await t.box.idle();
    assert.is(row(t, id).ctx.status, 'REGISTERED', 'to be loaded again, not LOADING with no compartment');
    assert.is(slotHolding(t, id), undefined, 'the compartment won meanwhile is given back');
    assert.is(t.box.compartments().find((c) => c.id === won)!.state, 'free');

    holding = false;
    const again = await t.box.loadPickup('V-REV-1', 'anna');
    assert.ok(again.compartmentId, 'staff load it again');
    await t.box.idle();
    await passDoor(t, again.compartmentId);
    assert.is(t.box.pickup('V-REV-1')!.status, 'READY');
    assert.match(lastPin(t), /^\d{6}$/);
  } finally {
    await t.box.close();
  }
});

test('a pickup whose actor failed while its PIN was being made gets a PIN by SMS once revived', async () => {
  // The PIN is made in the pickup's I/O after the door closed on the load; the actor fails right
  // then (the crashing messages go in as the PIN is made), so the PIN made is refused.
  let failNow: (() => void) | null = null;
  let pins = 0;
  const t = await testBox({}, {
    generatePin: () => {
      failNow?.();
      failNow = null;
      return String(123_450 + ++pins);
    },
  });
  try {
    await register(t.box, 'V-REV-2');
    const id = t.box.pickup('V-REV-2')!.id;
    const { compartmentId } = await t.box.loadPickup('V-REV-2', 'anna');
    await t.box.idle();
    t.hw.locks.openDoor(compartmentId);
    await t.box.idle();
    failNow = () => failPickupActor(t, id);
    t.hw.locks.closeDoor(compartmentId);
    await t.box.idle();
    assert.is(row(t, id).status, 'failed');
    assert.is(row(t, id).ctx.status, 'READY');
    assert.not.ok(row(t, id).ctx.pinIssued, 'the PIN made was refused: the citizen has none');
    const smsBefore = t.hw.sms.sent.length;

    await t.box.reviveActor(pickupAddress(id), 'anna');
    await t.box.idle();
    assert.ok(row(t, id).ctx.pinIssued, 'a PIN is made again');
    const sms = t.hw.sms.sent.slice(smsBefore);
    assert.is(sms.length, 1, 'one SMS');
    assert.is(sms[0]!.to, PHONE);
    assert.match(sms[0]!.text, `PIN: ${lastPin(t)}`);
    assert.is(lastPin(t), String(123_450 + pins), 'the PIN made after the revival');

    // The citizen collects with it.
    const session = t.box.session(await authenticate(t, lastPin(t)))!;
    assert.is(session.error, null);
    assert.is(session.step, 'factor');
  } finally {
    await t.box.close();
  }
});

test('a pickup whose actor failed while staff took it out ends RETURNED once revived, with no false occupancy alarm', async () => {
  const t = await testBox();
  try {
    const { compartmentId } = await readyPickup(t, 'V-REV-4');
    const id = t.box.pickup('V-REV-4')!.id;
    await t.box.retrievePickup('V-REV-4', 'anna');
    await t.box.idle();
    failPickupActor(t, id);
    await t.box.idle();
    assert.is(row(t, id).status, 'failed');
    // Staff open the unlocked door, take the document and close it: the compartment keeps the
    // reports the failed actor refused.
    await passDoor(t, compartmentId);
    assert.is(t.box.compartments().find((c) => c.id === compartmentId)!.state, 'free');

    await t.box.reviveActor(pickupAddress(id), 'anna');
    await t.box.idle();
    assert.is(t.box.pickup('V-REV-4')!.status, 'RETURNED', 'the kept reports end it');
    assert.equal(t.box.alarms(true).filter((a) => a.code === 'OCCUPANCY_MISMATCH').map((a) => a.text), [], 'the compartment is not asked before it told what it kept');
  } finally {
    await t.box.close();
  }
});

test('a pickup revived with nothing cut short keeps its PIN: the citizen is not sent another', async () => {
  const t = await testBox();
  try {
    const { pin } = await readyPickup(t, 'V-REV-3');
    const id = t.box.pickup('V-REV-3')!.id;
    failPickupActor(t, id);
    await t.box.idle();
    assert.is(row(t, id).status, 'failed');
    const smsBefore = t.hw.sms.sent.length;
    await t.box.reviveActor(pickupAddress(id), 'anna');
    await t.box.idle();
    assert.is(t.hw.sms.sent.length, smsBefore, 'no SMS');
    assert.is(t.box.session(await authenticate(t, pin))!.step, 'factor', 'the PIN the citizen has still opens');
  } finally {
    await t.box.close();
  }
});

test.run();
