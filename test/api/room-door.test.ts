import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { createBox, type SimulatedHardware } from '../../src/box.js';
import { PHONE, wrongPin } from '../helpers.js';
import { MONDAY_8PM, readyPickupOnPins, roomLayout } from '../devices/room-door-rig.js';
import { ENGINES, MONITOR, TOKENS, start, type Running } from './support.js';

// enterRoom over HTTP on both servers: the outside panel of the after-hours room (kiosk id `door`)
// with its own token, the box inside on the register-level simulation of its expander boards.

const DOOR = 'door-panel-token-000000007';
const ENTER = 'mutation Enter($phone: String!, $pin: String!) { enterRoom(phone: $phone, pin: $pin) { opened byHours } }';
const ALARMS = 'query { alarms(openOnly: true) { code } }';

function startRoom(engine: (typeof ENGINES)[number], at: number): Promise<Running> {
  return start(engine, { tokens: { ...TOKENS, kiosk: { '1': TOKENS.kiosk['1'], door: DOOR } } }, async () => {
    const clock = new SimulatedClock(at);
    const box = await createBox({ storage: 'memory:', layout: roomLayout(), hardware: 'i2c-sim', hoursPreset: 'always', kiosks: ['1'] }, { clock });
    return { box, clock, hw: box.hardware as SimulatedHardware };
  });
}

for (const engine of ENGINES) {
  const api = suite(`enterRoom over ${engine}`);

  api('after hours: a wrong PIN is AUTH_FAILED exactly as for an unknown number and counts; number and PIN open the door for openMs, audited, the PIN still valid', async () => {
    const r = await startRoom(engine, MONDAY_8PM);
    try {
      const door = r.box.roomDoorMechanism!;
      const { pin } = await readyPickupOnPins(r.box, 'ROOM-API-1');
      const wrong = await r.gql(ENTER, { phone: PHONE, pin: wrongPin(pin) }, DOOR);
      const unknown = await r.gql(ENTER, { phone: '0151 11111111', pin }, DOOR);
      assert.is(wrong.errors?.[0]?.extensions?.code, 'AUTH_FAILED');
      assert.equal(wrong.errors?.[0], unknown.errors?.[0], 'a registered number is not told apart from any other');
      assert.is(wrong.data?.enterRoom ?? null, null);
      assert.is(r.box.pickup('ROOM-API-1')!.failedAttempts, 1, 'the door attempt counts toward the pickup\'s limit');
      assert.is((await r.gql(ENTER, { phone: PHONE, pin }, TOKENS.kiosk['1'])).errors?.[0]?.extensions?.code, 'NOT_A_DOOR_PANEL');

      const entered = await r.gql(ENTER, { phone: PHONE, pin }, DOOR);
      assert.equal(entered.data?.enterRoom, { opened: true, byHours: false });
      await r.box.advance(100);
      assert.ok(door.unlocked, 'the strike is energised');
      await r.box.advance(4_700);
      assert.ok(door.unlocked, 'still open just before openMs (5 s)');
      await r.box.advance(400);
      assert.not.ok(door.unlocked, 'locked again after openMs');
      assert.not.ok(door.push());

      const audit = (await r.box.audit()).map((a) => a.action);
      for (const action of ['auth.failed', 'auth.doorPinAccepted', 'roomDoor.opened']) assert.ok(audit.includes(action), action);
      assert.is(r.box.pickup('ROOM-API-1')!.status, 'READY', 'the PIN is not used up');
      const { sessionId } = await r.box.startSession('1');
      await r.box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
      assert.is((await r.box.sessionInput(sessionId, { type: 'pin', pin })).step, 'birthDate', 'the same PIN goes on at the box inside');
    } finally {
      await r.close();
    }
  });

  api('door attempts count toward the same throttles as the panel: after the free failures even the right PIN waits (AUTH_THROTTLED with retryAt), then opens', async () => {
    const r = await startRoom(engine, MONDAY_8PM);
    try {
      const { pin } = await readyPickupOnPins(r.box, 'ROOM-API-2');
      // three failures are free (throttle.free), the fourth starts the back-off; five would lock the pickup
      for (let n = 0; n < 4; n++) assert.is((await r.gql(ENTER, { phone: PHONE, pin: wrongPin(pin) }, DOOR)).errors?.[0]?.extensions?.code, 'AUTH_FAILED');
      assert.is(r.box.pickup('ROOM-API-2')!.failedAttempts, 4);
      const throttled = await r.gql(ENTER, { phone: PHONE, pin }, DOOR);
      assert.is(throttled.errors?.[0]?.extensions?.code, 'AUTH_THROTTLED');
      const retryAt = Number((throttled.errors?.[0]?.extensions?.details as { retryAt?: number } | undefined)?.retryAt);
      assert.ok(retryAt > r.clock.now(), 'retryAt lies ahead');
      assert.not.ok(r.box.roomDoorMechanism!.unlocked);
      await r.box.advance(retryAt - r.clock.now() + 1_000);
      assert.equal((await r.gql(ENTER, { phone: PHONE, pin }, DOOR)).data?.enterRoom, { opened: true, byHours: false });
    } finally {
      await r.close();
    }
  });

  api('after hours the door held open raises ROOM_DOOR_HELD_OPEN, forced raises ROOM_DOOR_FORCED — seen by a monitor', async () => {
    const r = await startRoom(engine, MONDAY_8PM);
    try {
      const door = r.box.roomDoorMechanism!;
      const { pin } = await readyPickupOnPins(r.box, 'ROOM-API-3');
      await r.gql(ENTER, { phone: PHONE, pin }, DOOR);
      await r.box.advance(100);
      assert.ok(door.push());
      await r.box.advance(30_500);
      assert.equal((await r.gql(ALARMS, {}, MONITOR)).data?.alarms, [{ code: 'ROOM_DOOR_HELD_OPEN' }]);
      door.close();
      await r.box.advance(300);
      assert.equal((await r.gql(ALARMS, {}, MONITOR)).data?.alarms, []);
      door.force();
      await r.box.advance(300);
      assert.equal((await r.gql(ALARMS, {}, MONITOR)).data?.alarms, [{ code: 'ROOM_DOOR_FORCED' }]);
    } finally {
      await r.close();
    }
  });

  api('during the office hours the door follows the hours table: open without a PIN, locked at closing time, then the PIN is checked', async () => {
    const r = await startRoom(engine, Date.UTC(2026, 10, 23, 14, 58, 0)); // Monday 15:58, closes 16:00
    try {
      const door = r.box.roomDoorMechanism!;
      await r.box.advance(100);
      assert.ok(door.unlocked);
      assert.equal((await r.gql(ENTER, { phone: PHONE, pin: '000000' }, DOOR)).data?.enterRoom, { opened: true, byHours: true });
      await r.box.advance(122_000);
      assert.not.ok(door.unlocked, '16:00: the strike follows the table');
      assert.is((await r.gql(ENTER, { phone: PHONE, pin: '000000' }, DOOR)).errors?.[0]?.extensions?.code, 'AUTH_FAILED');
    } finally {
      await r.close();
    }
  });

  api.run();
}
