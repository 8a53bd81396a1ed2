import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kioskActor } from '../../actors/kiosk.js';
import { DUESSELDORF_HOURS } from '../../actors/domain/hours.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { demoLayout, validateLayout } from '../../drivers/layout.js';
import { createSimulatedLockBank } from '../../drivers/i2c/lock-bank.js';
import { ExpanderHeadphoneJacks } from '../../drivers/i2c/headphones.js';
import { SimulatedHeadphoneContacts } from '../../drivers/i2c/sim/headphones.js';
import { createBox, simulatedHardware } from '../../src/box.js';
import { demoCompartments, resolveConfig } from '../../src/config.js';
import { MONDAY_10AM, testBox } from '../helpers.js';
import { assertLayoutRefused } from './room-door-rig.js';

// The panel's headphone jack: an input pin in the layout, debounced, reported to the kiosk and its
// session, so the page switches speech to private mode.

test('kiosk: a jack change goes to the running session and is remembered for the next one', () => {
  const kiosk = kioskActor(DUESSELDORF_HOURS);
  const busy = { ...kiosk.init({ id: '1' }, 'kiosk/1'), active: '1-1' };
  const { ctx, effects } = kiosk.step(busy, { type: 'headphones.changed', plugged: true, now: 0 });
  assert.is(ctx.headphones, true);
  assert.equal(effects, [{ type: 'send', to: 'session/1-1', message: { type: 'headphones', plugged: true } }]);
  const next = kiosk.step({ ...ctx, active: null }, { type: 'session.start', requestId: 'r1', replyTo: 'replies', now: MONDAY_10AM });
  assert.equal(next.effects[0], { type: 'spawn', address: 'session/1-1', kind: 'session', input: { id: '1-1', kioskId: '1', headphones: true } });
});

test('device-level simulation: plugging in and out shows on the session view at once', async () => {
  const t = await testBox();
  try {
    const { sessionId } = await t.box.startSession();
    assert.is(t.box.session(sessionId)!.headphones, false);
    t.box.simulation.plugHeadphones('1', true);
    await t.box.idle();
    assert.is(t.box.session(sessionId)!.headphones, true);
    t.box.simulation.plugHeadphones('1', false);
    await t.box.idle();
    assert.is(t.box.session(sessionId)!.headphones, false);
  } finally {
    await t.box.close();
  }
});

const jackLayout = () => {
  const l = demoLayout(7);
  // GPA7 and GPB7 are output-only; the seventh compartment's pins are GPA6/GPB6: put the jack on a second board.
  return {
    boards: [...l.boards, { id: 'B2', kind: 'pcf8574', bus: 1, address: 0x22 }],
    compartments: l.compartments,
    headphones: [{ kiosk: '1', jackPin: { board: 'B2', pin: 3 } }],
  };
};

test('register-level simulation: the jack on a PCF8574 pin reaches the session after two agreeing polls; a wiggle does not', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  const box = await createBox({ storage: 'memory:', layout: jackLayout(), hardware: 'i2c-sim' }, { clock });
  try {
    const { sessionId } = await box.startSession();
    box.simulation.plugHeadphones('1', true);
    await box.advance(100);
    assert.is(box.session(sessionId)!.headphones, false, 'one poll is not enough');
    await box.advance(100);
    assert.is(box.session(sessionId)!.headphones, true);
    // pulled out for one poll only: a loose plug, not a change
    box.simulation.plugHeadphones('1', false);
    await box.advance(100);
    box.simulation.plugHeadphones('1', true);
    await box.advance(300);
    assert.is(box.session(sessionId)!.headphones, true);
  } finally {
    await box.close();
  }
});

test('the jack driver takes the level found at start as the truth, without an event', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  const layout = validateLayout(jackLayout());
  const bank = createSimulatedLockBank(layout, clock, { pollMs: 100 });
  const contacts = new SimulatedHeadphoneContacts(layout.devices!.headphones, bank.world);
  contacts.plug('1', true);
  const jacks = new ExpanderHeadphoneJacks(bank.locks.gpio, layout.devices!.headphones);
  const events: unknown[] = [];
  jacks.onChange((e) => events.push(e));
  await bank.locks.start();
  assert.is(jacks.plugged('1'), true);
  assert.equal(events, []);
  contacts.plug('1', false);
  await clock.advance(250, () => new Promise((r) => setImmediate(r)));
  assert.equal(events, [{ kiosk: '1', plugged: false }]);
  await bank.locks.close();
});

test('headphones already in the jack when the box starts reach the first session', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  const input = { storage: 'memory:', compartments: demoCompartments(4) };
  const devices = simulatedHardware(resolveConfig(input), clock);
  devices.headphones.plug('1', true);
  const box = await createBox(input, { clock, hardware: devices });
  try {
    const { sessionId } = await box.startSession();
    assert.is(box.session(sessionId)!.headphones, true);
  } finally {
    await box.close();
  }
});

for (const [name, headphones, code, message] of [
  ['two jacks for one panel', [{ kiosk: '1', jackPin: { board: 'B1', pin: 7 } }, { kiosk: '1', jackPin: { board: 'B1', pin: 14 } }], 'INPUT_ON_OUTPUT_ONLY_PIN', /jackPin is GPA7/],
  ['jack on a door pin', [{ kiosk: '1', jackPin: { board: 'B1', pin: 8 } }], 'PIN_CONFLICT', /headphones of panel 1: jackPin GPB0 of board B1 is already the door pin of A01/],
  ['same panel twice', [{ kiosk: '1', jackPin: { board: 'B1', pin: 6 } }, { kiosk: '1', jackPin: { board: 'B1', pin: 14 } }], 'HEADPHONES_INVALID', /panel 1 has two jacks/],
  ['bad contact level', [{ kiosk: '1', jackPin: { board: 'B1', pin: 6 }, pluggedWhen: 'open' }], 'HEADPHONES_INVALID', /pluggedWhen "open" is not low or high/],
] as const) {
  test(`layout refused: ${name} (${code})`, () => {
    const l = demoLayout(6);
    assertLayoutRefused({ boards: l.boards, compartments: l.compartments, headphones }, code, message);
  });
}

test.run();
