import type { BoxOutgoing, BoxEnqueue } from './protocol.js';
import { closesAt, isOpen, nextOpening, type OpeningHours } from './domain/hours.js';
import { ALARMS, ROOM_DOOR, clear, raise } from './messages.js';
import { defineActor } from './runtime/define.js';
import type { DoorState, RoomDoorPort } from '../drivers/ports.js';

/**
 * The after-hours room's door. During the opening hours it follows the hours table (unlocked);
 * outside them it opens only for `openMs` after the outside panel's number and PIN matched a READY
 * pickup (the registry checks and counts the attempt; the PIN is not used up). Opened while locked
 * → ROOM_DOOR_FORCED; left open after hours longer than `heldOpenMs` → ROOM_DOOR_HELD_OPEN.
 *
 *   locked ──hours open──▶ unlocked (hours) ──hours over──▶ locked
 *   locked ──grant──▶ unlocked (grant, openMs) ──grant.over──▶ locked
 */

export { ROOM_DOOR };

export interface RoomDoorPolicy {
  hours: OpeningHours;
  openMs: number;
  heldOpenMs: number;
}

export interface RoomDoorCtx {
  hoursOpen: boolean;
  /** unlocked for a citizen until then (after hours) */
  grantedUntil: number | null;
  /** what the strike was last told */
  unlocked: boolean;
  door: DoorState;
  grants: number;
}

export type RoomDoorEvent =
  | { type: 'started' }
  | { type: 'recovered' }
  | { type: 'hours.check' }
  | { type: 'grant'; kioskId: string; reference: string }
  | { type: 'grant.over' }
  | { type: 'door.changed'; door: DoorState }
  | { type: 'held.check' };

export type RoomDoorIo = { kind: 'strike'; unlocked: boolean };

const HOUR = 60 * 60 * 1000;

export function roomDoorActor(policy: RoomDoorPolicy, port: RoomDoorPort) {
  type Enq = BoxEnqueue<RoomDoorCtx, RoomDoorIo>;
  /** Drives the strike when what it should be differs from what it was told. */
  const strike = (ctx: RoomDoorCtx, now: number, enq: Enq): RoomDoorCtx => {
    const unlocked = ctx.hoursOpen || (ctx.grantedUntil !== null && ctx.grantedUntil > now);
    if (unlocked !== ctx.unlocked) enq.emit.io({ op: { kind: 'strike', unlocked } });
    return { ...ctx, unlocked };
  };
  /** Starts the held-open clock: after hours an open door may stand open for heldOpenMs. */
  const watchHeld = (now: number, enq: Enq) => enq.emit.schedule({ key: 'held', at: now + policy.heldOpenMs, message: { type: 'held.check' } });
  /** Follows the hours table: checks now, and again at the next opening or closing. */
  const followHours = (ctx: RoomDoorCtx, now: number, enq: Enq): RoomDoorCtx => {
    const hoursOpen = isOpen(policy.hours, now);
    const next = (hoursOpen ? closesAt(policy.hours, now) : nextOpening(policy.hours, now)) ?? now + HOUR;
    enq.emit.schedule({ key: 'hours', at: Math.max(next, now + 1000), message: { type: 'hours.check' } });
    if (hoursOpen !== ctx.hoursOpen) enq.emit.audit({ entry: { action: hoursOpen ? 'roomDoor.hoursOpen' : 'roomDoor.hoursClosed', subject: ROOM_DOOR } });
    // A door still standing open at closing time is held open from now on.
    if (ctx.hoursOpen && !hoursOpen && ctx.door === 'open') watchHeld(now, enq);
    return strike({ ...ctx, hoursOpen }, now, enq);
  };

  return defineActor<RoomDoorCtx, RoomDoorEvent, RoomDoorIo, BoxOutgoing>({
    kind: 'roomDoor',
    // The strike is released at start (the driver configures every output released).
    init: () => ({ hoursOpen: false, grantedUntil: null, unlocked: false, door: port.door(), grants: 0 }),
    on: {
      started: (ctx, e, enq) => {
        const next = followHours(ctx, e.now, enq);
        if (next.door === 'open' && !next.hoursOpen) watchHeld(e.now, enq);
        return next;
      },
      // After a restart the strike was released by the driver's start: tell it again what holds now.
      // A door found open after hours is held open from now on (its timer did not survive).
      recovered: (ctx, e, enq) => {
        const next = followHours({ ...ctx, unlocked: false, grantedUntil: null, door: port.door() }, e.now, enq);
        if (next.door === 'open' && !next.hoursOpen) watchHeld(e.now, enq);
        return next;
      },
      'hours.check': (ctx, e, enq) => followHours(ctx, e.now, enq),
      grant: (ctx, e, enq) => {
        enq.emit.audit({ entry: { action: 'roomDoor.opened', actor: `kiosk/${e.kioskId}`, subject: e.reference, detail: { openMs: policy.openMs, duringHours: ctx.hoursOpen } } });
        if (ctx.hoursOpen) return { ...ctx, grants: ctx.grants + 1 };
        const grantedUntil = e.now + policy.openMs;
        enq.emit.schedule({ key: 'grant', at: grantedUntil, message: { type: 'grant.over' } });
        return strike({ ...ctx, grantedUntil, grants: ctx.grants + 1 }, e.now, enq);
      },
      'grant.over': (ctx, e, enq) => strike({ ...ctx, grantedUntil: null }, e.now, enq),
      'door.changed': (ctx, e, enq) => {
        if (e.door === ctx.door) return;
        enq.emit.audit({ entry: { action: e.door === 'open' ? 'roomDoor.doorOpened' : 'roomDoor.doorClosed', subject: ROOM_DOOR } });
        if (e.door === 'closed') {
          enq.emit.cancel({ key: 'held' });
          enq.emit.send({ to: ALARMS, message: clear('roomDoor:held') });
          return { ...ctx, door: 'closed' };
        }
        if (!ctx.unlocked) {
          enq.emit.send({ to: ALARMS, message: raise('roomDoor:forced', 'ROOM_DOOR_FORCED', 'critical', ROOM_DOOR, 'The after-hours room door was opened while locked') });
        }
        if (!ctx.hoursOpen) watchHeld(e.now, enq);
        return { ...ctx, door: 'open' };
      },
      'held.check': (ctx, _e, enq) => {
        if (ctx.door !== 'open' || ctx.hoursOpen) return;
        enq.emit.send({ to: ALARMS, message: raise('roomDoor:held', 'ROOM_DOOR_HELD_OPEN', 'warning', ROOM_DOOR, 'The after-hours room door is held open') });
      },
    },
    async io(op) {
      await port.setUnlocked(op.unlocked);
    },
  });
}
