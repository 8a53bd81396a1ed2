import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DUESSELDORF_HOURS } from '../../actors/domain/hours.js';
import { roomDoorActor, type RoomDoorCtx, type RoomDoorEvent } from '../../actors/room-door.js';
import { SimulatedRoomDoor } from '../../drivers/sim/room-door.js';
import { MONDAY_8PM } from './room-door-rig.js';

// The room-door actor's pure transitions: each state × each event, with the whole effect list in
// order (store.transition through `step`, nothing run). The states: locked (after hours, no
// grant), granted (after hours, unlocked for openMs), hours (the table says open) — each with the
// door closed or open.

const OPEN_MS = 5_000;
const HELD_MS = 30_000;
const AFTER = MONDAY_8PM + 1_000; // Monday 20:00:01 in Düsseldorf
const DURING = Date.UTC(2026, 10, 23, 9, 0, 0); // Monday 10:00
const TUESDAY_0730 = Date.UTC(2026, 10, 24, 6, 30, 0); // the next opening after AFTER
const MONDAY_1600 = Date.UTC(2026, 10, 23, 15, 0, 0); // the closing after DURING
const GRANTED_UNTIL = MONDAY_8PM + OPEN_MS;

const port = new SimulatedRoomDoor();
const actor = roomDoorActor({ hours: DUESSELDORF_HOURS, openMs: OPEN_MS, heldOpenMs: HELD_MS }, port);

const locked: RoomDoorCtx = { hoursOpen: false, grantedUntil: null, unlocked: false, door: 'closed', grants: 0 };
const granted: RoomDoorCtx = { ...locked, grantedUntil: GRANTED_UNTIL, unlocked: true, grants: 1 };
const hours: RoomDoorCtx = { ...locked, hoursOpen: true, unlocked: true };
const opened = (ctx: RoomDoorCtx): RoomDoorCtx => ({ ...ctx, door: 'open' });

const audit = (action: string, extra: Record<string, unknown> = {}) => ({ type: 'audit', entry: { action, subject: 'door/room', ...extra } });
const opening = (duringHours: boolean) => ({ type: 'audit', entry: { action: 'roomDoor.opened', actor: 'kiosk/door', subject: 'R-1', detail: { openMs: OPEN_MS, duringHours } } });
const hoursCheck = (at: number) => ({ type: 'schedule', key: 'hours', at, message: { type: 'hours.check' } });
const grantOver = (at: number) => ({ type: 'schedule', key: 'grant', at, message: { type: 'grant.over' } });
const heldCheck = (at: number) => ({ type: 'schedule', key: 'held', at, message: { type: 'held.check' } });
const strike = (unlocked: boolean) => ({ type: 'io', op: { kind: 'strike', unlocked } });
const forced = { type: 'send', to: 'alarms', message: { type: 'alarm.raise', key: 'roomDoor:forced', code: 'ROOM_DOOR_FORCED', severity: 'critical', subject: 'door/room', text: 'The after-hours room door was opened while locked' } };
const held = { type: 'send', to: 'alarms', message: { type: 'alarm.raise', key: 'roomDoor:held', code: 'ROOM_DOOR_HELD_OPEN', severity: 'warning', subject: 'door/room', text: 'The after-hours room door is held open' } };
const closedAgain = [audit('roomDoor.doorClosed'), { type: 'cancel', key: 'held' }, { type: 'send', to: 'alarms', message: { type: 'alarm.clear', key: 'roomDoor:held' } }];

const EVENTS = {
  started: { type: 'started' },
  recovered: { type: 'recovered' },
  'hours.check': { type: 'hours.check' },
  grant: { type: 'grant', kioskId: 'door', reference: 'R-1' },
  'grant.over': { type: 'grant.over' },
  'door opened': { type: 'door.changed', door: 'open' },
  'door closed': { type: 'door.changed', door: 'closed' },
  'held.check': { type: 'held.check' },
} as const satisfies Record<string, RoomDoorEvent>;
type EventName = keyof typeof EVENTS;
type Row = Record<EventName, [RoomDoorCtx, unknown[]]>;

/** Expected next context and effects, per state and event; after hours at AFTER, during at DURING. */
const TABLE: Array<[string, RoomDoorCtx, number, Row]> = [
  ['locked, door closed', locked, AFTER, {
    started: [locked, [hoursCheck(TUESDAY_0730)]],
    recovered: [locked, [hoursCheck(TUESDAY_0730)]],
    'hours.check': [locked, [hoursCheck(TUESDAY_0730)]],
    grant: [{ ...granted, grantedUntil: AFTER + OPEN_MS }, [opening(false), grantOver(AFTER + OPEN_MS), strike(true)]],
    'grant.over': [locked, []],
    'door opened': [opened(locked), [audit('roomDoor.doorOpened'), forced, heldCheck(AFTER + HELD_MS)]],
    'door closed': [locked, []],
    'held.check': [locked, []],
  }],
  ['locked, door open (forced)', opened(locked), AFTER, {
    // a door found open at start after hours is held open from now on
    started: [opened(locked), [hoursCheck(TUESDAY_0730), heldCheck(AFTER + HELD_MS)]],
    // the simulated port's contact says closed: the context follows the hardware
    recovered: [locked, [hoursCheck(TUESDAY_0730)]],
    'hours.check': [opened(locked), [hoursCheck(TUESDAY_0730)]],
    grant: [opened({ ...granted, grantedUntil: AFTER + OPEN_MS }), [opening(false), grantOver(AFTER + OPEN_MS), strike(true)]],
    'grant.over': [opened(locked), []],
    'door opened': [opened(locked), []],
    'door closed': [locked, closedAgain],
    'held.check': [opened(locked), [held]],
  }],
  ['granted, door closed', granted, AFTER, {
    started: [granted, [hoursCheck(TUESDAY_0730)]],
    recovered: [{ ...locked, grants: 1 }, [hoursCheck(TUESDAY_0730)]],
    'hours.check': [granted, [hoursCheck(TUESDAY_0730)]],
    grant: [{ ...granted, grantedUntil: AFTER + OPEN_MS, grants: 2 }, [opening(false), grantOver(AFTER + OPEN_MS)]],
    'grant.over': [{ ...locked, grants: 1 }, [strike(false)]],
    'door opened': [opened(granted), [audit('roomDoor.doorOpened'), heldCheck(AFTER + HELD_MS)]],
    'door closed': [granted, []],
    'held.check': [granted, []],
  }],
  ['granted, door open', opened(granted), AFTER, {
    started: [opened(granted), [hoursCheck(TUESDAY_0730), heldCheck(AFTER + HELD_MS)]],
    recovered: [{ ...locked, grants: 1 }, [hoursCheck(TUESDAY_0730)]],
    'hours.check': [opened(granted), [hoursCheck(TUESDAY_0730)]],
    grant: [opened({ ...granted, grantedUntil: AFTER + OPEN_MS, grants: 2 }), [opening(false), grantOver(AFTER + OPEN_MS)]],
    'grant.over': [opened({ ...locked, grants: 1 }), [strike(false)]],
    'door opened': [opened(granted), []],
    'door closed': [granted, closedAgain],
    'held.check': [opened(granted), [held]],
  }],
  ['hours, door closed', hours, DURING, {
    started: [hours, [hoursCheck(MONDAY_1600)]],
    recovered: [hours, [hoursCheck(MONDAY_1600), strike(true)]],
    'hours.check': [hours, [hoursCheck(MONDAY_1600)]],
    grant: [{ ...hours, grants: 1 }, [opening(true)]],
    'grant.over': [hours, []],
    'door opened': [opened(hours), [audit('roomDoor.doorOpened')]],
    'door closed': [hours, []],
    'held.check': [hours, []],
  }],
  ['hours, door open', opened(hours), DURING, {
    started: [opened(hours), [hoursCheck(MONDAY_1600)]],
    recovered: [hours, [hoursCheck(MONDAY_1600), strike(true)]],
    'hours.check': [opened(hours), [hoursCheck(MONDAY_1600)]],
    grant: [opened({ ...hours, grants: 1 }), [opening(true)]],
    'grant.over': [opened(hours), []],
    'door opened': [opened(hours), []],
    'door closed': [hours, closedAgain],
    'held.check': [opened(hours), []],
  }],
];

const transitions = suite('room-door actor: each state × each event');
for (const [state, ctx, now, row] of TABLE) {
  for (const name of Object.keys(EVENTS) as EventName[]) {
    transitions(`${state} + ${name}`, () => {
      const [wantCtx, wantEffects] = row[name];
      const { ctx: next, effects } = actor.step(ctx, { ...EVENTS[name], now });
      assert.equal(next, wantCtx);
      assert.equal(effects, wantEffects);
    });
  }
}
transitions.run();

const boundaries = suite('room-door actor: the hours table turning');

boundaries('opening time: the strike unlocks, audited, the next check at closing', () => {
  const { ctx, effects } = actor.step(locked, { type: 'hours.check', now: DURING });
  assert.equal(ctx, hours);
  assert.equal(effects, [hoursCheck(MONDAY_1600), audit('roomDoor.hoursOpen'), strike(true)]);
});

boundaries('closing time with the door shut: the strike locks, the next check at the next opening', () => {
  const { ctx, effects } = actor.step(hours, { type: 'hours.check', now: MONDAY_1600 });
  assert.equal(ctx, locked);
  assert.equal(effects, [hoursCheck(TUESDAY_0730), audit('roomDoor.hoursClosed'), strike(false)]);
});

boundaries('closing time with the door standing open: it is held open from now on', () => {
  const { ctx, effects } = actor.step(opened(hours), { type: 'hours.check', now: MONDAY_1600 });
  assert.equal(ctx, opened(locked));
  assert.equal(effects, [hoursCheck(TUESDAY_0730), audit('roomDoor.hoursClosed'), heldCheck(MONDAY_1600 + HELD_MS), strike(false)]);
});

boundaries('recovered after hours with the door found open: the held-open clock starts again', () => {
  const open = new SimulatedRoomDoor();
  open.force();
  const a = roomDoorActor({ hours: DUESSELDORF_HOURS, openMs: OPEN_MS, heldOpenMs: HELD_MS }, open);
  const { ctx, effects } = a.step(locked, { type: 'recovered', now: AFTER });
  assert.equal(ctx, opened(locked));
  assert.equal(effects, [hoursCheck(TUESDAY_0730), heldCheck(AFTER + HELD_MS)]);
});

boundaries.run();
