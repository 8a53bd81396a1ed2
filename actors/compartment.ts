import type { BoxOutgoing, BoxEnqueue } from './protocol.js';
import { answer, refuse, requestOf } from './runtime/ask.js';
import { defineActor } from './runtime/define.js';
import { z } from 'zod';
import { toErrorCode, type ErrorCode } from './domain/errors.js';
import { ALARMS, ALLOCATION, PICKUP_PREFIX, REGISTRY, causeSchema, clear, errorCode, maybeAsked, pickupAddress, purposeSchema, raise, type Cause, type Purpose, type Size } from './messages.js';
import { occupancyMismatch } from './pickup.js';
import type { DoorState } from '../drivers/ports.js';
import { RegistryMessage, type RegistryEvent } from './registry.js';
import type { PickupEvent } from './pickup-actor.js';

/**
 * One compartment: its lock, its door and what lies in it.
 *
 *   free ──unlock(load)──▶ unlocking ──door open──▶ open ──door closed──▶ occupied
 *   occupied ──unlock(collect|retrieve)──▶ unlocking ──▶ open ──closed──▶ free
 *   unlocking ──30 s without the door moving──▶ back where it was (latch re-engaged)
 *   any ──board fault / forced door / interrupted unlock──▶ fault ──staff──▶ previous
 *   free|occupied ──staff──▶ outOfService ──staff──▶ previous
 *
 * The unlock intent (op) is committed before the pulse runs: the runtime persists the new
 * context before it starts the `pulse` I/O, so a crash never leaves an unjournaled opening.
 */

/** A lock refusing a pulse while it cools down is asked again this often, this much later. */
const COOLDOWN_RETRIES = 5;
const COOLDOWN_RETRY_MS = 1_000;

/** Unlocks in a row without the door moving after which the lock is reported jammed. */
export const JAM_AFTER_SILENT_UNLOCKS = 2;

export type CompartmentState = 'free' | 'occupied' | 'unlocking' | 'open' | 'fault' | 'outOfService';

export interface UnlockOp {
  id: string;
  purpose: Purpose;
  pickupId: string | null;
  cause: Cause;
  requestedAt: number;
  pulsedAt: number | null;
  /** pulses refused because the lock was cooling down */
  cooldownRetries?: number;
}

export interface CompartmentCtx {
  id: string;
  size: Size;
  accessible: boolean;
  state: CompartmentState;
  /** what the compartment holds: a pickup id, or null when empty */
  pickupId: string | null;
  door: DoorState;
  lock: 'locked' | 'released';
  op: UnlockOp | null;
  /** the state to go back to after a fault is cleared or service resumes */
  resumeTo: 'free' | 'occupied';
  fault: { code: ErrorCode; since: number } | null;
  service: { by: string; reason: string; since: number } | null;
  doorOpenedAt: number | null;
  doorAlarm: boolean;
  /** pulses in a row after which the door never moved: two mean the lock is jammed */
  silentUnlocks: number;
  /**
   * What this compartment told a pickup's actor (or the registry, for a pickup an earlier version
   * registered) while that actor had failed for good (sent back to it, refused), in the order
   * sent: told again once it is revived (`delivery.resumed`, for the reports to that actor) or at
   * the next start, so an opening or closing is not lost. Absent: nothing.
   */
  unsent?: KeptReport[];
}

/**
 * A report kept for the actor that refused it: its pickup's, or (`viaRegistry`) the registry,
 * which the supervisor passed it to because the pickup has no actor of its own (one an earlier
 * version registered; see the box's `fallback`). The mark stays here: it is not sent.
 */
type KeptReport = RegistryEvent & { viaRegistry?: true };

/** What a compartment tells the registry of its doors and unlocks: kept when refused (see `unsent`). */
const REPORTS: ReadonlySet<string> = new Set(['compartment.opened', 'compartment.closed', 'compartment.notOpened', 'compartment.unlockFailed', 'compartment.report']);
/** Where a report goes: to the pickup it concerns, or (none named) to the registry. */
const reportTo = (message: RegistryEvent): typeof REGISTRY | `pickup/${string}` => {
  const pickupId = 'pickupId' in message ? message.pickupId : null;
  return typeof pickupId === 'string' && message.type !== 'compartment.report' ? pickupAddress(pickupId) : REGISTRY;
};
/** Whether the kept `message` is one the actor at `to` refused, to be told again once it is back. */
const refusedBy = (message: KeptReport, to: string): boolean => (message.viaRegistry ? to === REGISTRY : reportTo(message) === to);
/** Sends a report where `reportTo` says: one naming its pickup is one the pickup's actor takes. */
const sendReport = (enq: BoxEnqueue<CompartmentCtx, CompartmentIo>, kept: KeptReport): void => {
  const { viaRegistry: _mark, ...message } = kept;
  const to = reportTo(message as RegistryEvent);
  if (to === REGISTRY) enq.emit.send({ to, message: message as RegistryEvent });
  else enq.emit.send({ to, message: message as PickupEvent });
};

const door = z.enum(['open', 'closed']);

/** Everything a compartment takes, as a runtime schema (the harness's injected messages are checked against it). */
export const CompartmentMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('unlock'), opId: z.string(), purpose: purposeSchema, pickupId: z.string().nullable(), cause: causeSchema }),
  z.object({ type: z.literal('door.changed'), door }),
  z.object({ type: z.literal('pulse.done'), opId: z.string() }),
  z.object({ type: z.literal('pulse.failed'), opId: z.string(), code: errorCode }),
  z.object({ type: z.literal('pulse.retry'), opId: z.string() }),
  z.object({ type: z.literal('window.expired'), opId: z.string() }),
  z.object({ type: z.literal('door.leftOpen') }),
  z.object({ type: z.literal('service.set'), inService: z.boolean(), by: z.string(), reason: z.string(), ...maybeAsked }),
  z.object({ type: z.literal('board.status'), ok: z.boolean(), code: errorCode.optional() }),
  z.object({ type: z.literal('fault.clear'), by: z.string(), ...maybeAsked }),
  /**
   * The door as read after a restart. `pulsedBeforeStop`: the unlock that had pulsed before the
   * process stopped, whose door changes since then went unseen.
   */
  z.object({ type: z.literal('door.reconciled'), door, pulsedBeforeStop: z.string().nullable().optional() }),
  /** the allocation actor, new, asks whether this compartment can be given */
  z.object({ type: z.literal('availability.report') }),
  /** a message of this compartment reached an actor that failed for good (or crashed it), and the supervisor sends it back */
  z.object({ type: z.literal('delivery.failed'), to: z.string(), messageType: z.string(), message: z.record(z.string(), z.unknown()).optional(), crashed: z.boolean().optional() }),
  /** an actor that had failed for good is revived: what it refused may be sent again */
  z.object({ type: z.literal('delivery.resumed'), to: z.string() }),
  z.object({ type: z.literal('recovered') }),
  z.object({ type: z.literal('restarted') }),
  /** after a restart, from a pickup recorded in this compartment (see the handler) */
  z.object({ type: z.literal('occupancy.expect'), pickupId: z.string(), reference: z.string(), status: z.string() }),
]);
export type CompartmentEvent = z.infer<typeof CompartmentMessage>;

export type CompartmentIo = { kind: 'pulse'; opId: string; compartment: string } | { kind: 'readDoor'; compartment: string; pulsedBeforeStop?: string | null };

export interface CompartmentTimings {
  /** the door must be opened within this time after the pulse (DESIGN: 30 s) */
  doorWindowMs: number;
  /** a door open longer than this raises an alarm (DESIGN: 60 s) */
  doorLeftOpenMs: number;
}

export interface CompartmentInput {
  id: string;
  size: Size;
  accessible: boolean;
}

/** Hardware the compartment needs; `pulse` rejects with a DriverError code on failure. */
export interface CompartmentHardware {
  pulse(compartment: string): Promise<void>;
  door(compartment: string): Promise<DoorState>;
}

export function compartmentActor(timings: CompartmentTimings, hw: CompartmentHardware) {
  /**
   * The reports refused by the actor at `to` (every one: undefined), told again in the order sent;
   * the others stay kept.
   */
  const tellAgain = (ctx: CompartmentCtx, enq: BoxEnqueue<CompartmentCtx, CompartmentIo>, to?: string): CompartmentCtx | undefined => {
    if (!ctx.unsent?.length) return;
    const kept: KeptReport[] = [];
    for (const message of ctx.unsent) {
      if (to === undefined || refusedBy(message, to)) sendReport(enq, message);
      else kept.push(message);
    }
    if (kept.length === ctx.unsent.length) return;
    const { unsent: _told, ...rest } = ctx;
    return kept.length > 0 ? { ...rest, unsent: kept } : rest;
  };
  /**
   * A report to the pickup it concerns. While reports its actor refused are kept (it had failed for
   * good), a new one is kept behind them, not sent: the pickup, revived, must hear them in the
   * order they happened (a load's door opening before its closing), and `delivery.resumed` may
   * still be queued behind the message that causes this one. Returns what the state keeps
   * (nothing, or the longer list).
   */
  const report = (ctx: CompartmentCtx, enq: BoxEnqueue<CompartmentCtx, CompartmentIo>, message: RegistryEvent): Pick<CompartmentCtx, 'unsent'> => {
    const to = reportTo(message);
    // (Behind reports the registry refused for this pickup, it waits for the registry too.)
    const ahead = ctx.unsent?.find((m) => reportTo(m) === to);
    if (ahead) return { unsent: [...ctx.unsent!, ahead.viaRegistry ? { ...message, viaRegistry: true } : message] };
    sendReport(enq, message);
    return {};
  };
  const askTheDoor = (ctx: CompartmentCtx, _e: unknown, enq: BoxEnqueue<CompartmentCtx, CompartmentIo>) => {
    enq.emit.io({ op: { kind: 'readDoor', compartment: ctx.id } });
  };
  return defineActor<CompartmentCtx, CompartmentEvent, CompartmentIo, BoxOutgoing>({
    kind: 'compartment',
    messages: CompartmentMessage,
    init: (input: CompartmentInput) => ({
      id: input.id,
      size: input.size,
      accessible: input.accessible,
      state: 'free',
      pickupId: null,
      door: 'closed',
      lock: 'locked',
      op: null,
      resumeTo: 'free',
      fault: null,
      service: null,
      doorOpenedAt: null,
      doorAlarm: false,
      silentUnlocks: 0,
    }),
    on: {
      unlock: (ctx, e, enq) => {
        const ready = (ctx.state === 'free' && e.purpose === 'load') || (ctx.state === 'occupied' && e.purpose !== 'load');
        const staffService = e.purpose === 'service' && (ctx.state === 'free' || ctx.state === 'occupied' || ctx.state === 'outOfService');
        if (!ready && !staffService) {
          const kept = report(ctx, enq, { type: 'compartment.unlockFailed', compartmentId: ctx.id, opId: e.opId, purpose: e.purpose, pickupId: e.pickupId, code: 'COMPARTMENT_BUSY' });
          return kept.unsent ? { ...ctx, ...kept } : undefined;
        }
        const op: UnlockOp = { id: e.opId, purpose: e.purpose, pickupId: e.pickupId, cause: e.cause, requestedAt: e.now, pulsedAt: null };
        enq.emit.audit({ entry: { action: 'unlock.intent', subject: ctx.id, detail: { op: e.opId, purpose: e.purpose, cause: causeText(e.cause) } } });
        enq.emit.io({ op: { kind: 'pulse', opId: e.opId, compartment: ctx.id } });
        return { ...ctx, state: 'unlocking', op, resumeTo: ctx.state === 'outOfService' ? ctx.resumeTo : (ctx.state as 'free' | 'occupied') };
      },

      'pulse.retry': (ctx, e, enq) => {
        if (ctx.state !== 'unlocking' || !ctx.op || ctx.op.id !== e.opId) return;
        enq.emit.io({ op: { kind: 'pulse', opId: e.opId, compartment: ctx.id } });
      },

      'pulse.done': (ctx, e, enq) => {
        if (!ctx.op || ctx.op.id !== e.opId) return;
        enq.emit.schedule({ key: 'window', at: e.now + timings.doorWindowMs, message: { type: 'window.expired', opId: e.opId } });
        enq.emit.audit({ entry: { action: 'unlock.pulsed', subject: ctx.id, detail: { op: e.opId } } });
        return { ...ctx, lock: 'released', op: { ...ctx.op, pulsedAt: e.now } };
      },

      'pulse.failed': (ctx, e, enq) => {
        if (!ctx.op || ctx.op.id !== e.opId) return;
        if (e.code === 'LOCK_COOLDOWN' && (ctx.op.cooldownRetries ?? 0) < COOLDOWN_RETRIES) {
          // The lock is still cooling down from its last pulse: not a fault, pulse again shortly.
          enq.emit.schedule({ key: 'cooldown', at: e.now + COOLDOWN_RETRY_MS, message: { type: 'pulse.retry', opId: e.opId } });
          return { ...ctx, op: { ...ctx.op, cooldownRetries: (ctx.op.cooldownRetries ?? 0) + 1 } };
        }
        const kept = report(ctx, enq, { type: 'compartment.unlockFailed', compartmentId: ctx.id, opId: e.opId, purpose: ctx.op.purpose, pickupId: ctx.op.pickupId, code: e.code });
        enq.emit.send({ to: ALARMS, message: raise(`lock:${ctx.id}`, e.code, 'critical', ctx.id, `Lock of compartment ${ctx.id} failed (${e.code})`) });
        // Until staff clear the fault, no pickup is given this compartment.
        enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: false, code: e.code } });
        enq.emit.audit({ entry: { action: 'unlock.failed', subject: ctx.id, detail: { op: e.opId, code: e.code } } });
        return { ...ctx, ...kept, state: 'fault', op: null, fault: { code: e.code, since: e.now } };
      },

      'door.changed': (ctx, e, enq) => {
        if (e.door === ctx.door) return;
        if (e.door === 'open') {
          enq.emit.schedule({ key: 'doorOpen', at: e.now + timings.doorLeftOpenMs, message: { type: 'door.leftOpen' } });
          if (ctx.state === 'unlocking' && ctx.op) {
            enq.emit.cancel({ key: 'window' });
            enq.emit.audit({ entry: { action: 'door.opened', subject: ctx.id, detail: { op: ctx.op.id, purpose: ctx.op.purpose } } });
            const kept = report(ctx, enq, { type: 'compartment.opened', compartmentId: ctx.id, opId: ctx.op.id, purpose: ctx.op.purpose, pickupId: ctx.op.pickupId });
            return { ...ctx, ...kept, state: 'open', door: 'open', lock: 'locked', doorOpenedAt: e.now, silentUnlocks: 0 };
          }
          // Opened without an unlock: somebody forced it.
          enq.emit.audit({ entry: { action: 'door.forced', subject: ctx.id } });
          enq.emit.send({ to: ALARMS, message: raise(`forced:${ctx.id}`, 'DOOR_FORCED', 'critical', ctx.id, `Door of compartment ${ctx.id} opened without an unlock`) });
          enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: false, code: 'DOOR_FORCED' } });
          return {
            ...ctx,
            door: 'open',
            doorOpenedAt: e.now,
            state: 'fault',
            resumeTo: stable(ctx),
            fault: { code: 'DOOR_FORCED', since: e.now },
          };
        }
        // closed
        enq.emit.cancel({ key: 'doorOpen' });
        if (ctx.doorAlarm) enq.emit.send({ to: ALARMS, message: clear(`door-open:${ctx.id}`) });
        enq.emit.audit({ entry: { action: 'door.closed', subject: ctx.id } });
        const closed = { ...ctx, door: 'closed' as const, doorOpenedAt: null, doorAlarm: false };
        if (ctx.state === 'open' && ctx.op) {
          const op = ctx.op;
          const holds = op.purpose === 'load' ? op.pickupId : op.purpose === 'service' ? ctx.pickupId : null;
          const kept = report(ctx, enq, { type: 'compartment.closed', compartmentId: ctx.id, opId: op.id, purpose: op.purpose, pickupId: op.pickupId });
          return { ...closed, ...kept, state: holds ? 'occupied' : 'free', pickupId: holds, op: null };
        }
        return closed;
      },

      'window.expired': (ctx, e, enq) => {
        if (ctx.state !== 'unlocking' || !ctx.op || ctx.op.id !== e.opId) return;
        // The latch re-engaged: nothing changed inside the compartment.
        enq.emit.audit({ entry: { action: 'door.notOpened', subject: ctx.id, detail: { op: e.opId } } });
        const kept = report(ctx, enq, { type: 'compartment.notOpened', compartmentId: ctx.id, opId: e.opId, purpose: ctx.op.purpose, pickupId: ctx.op.pickupId });
        const silentUnlocks = (ctx.silentUnlocks ?? 0) + 1;
        if (silentUnlocks >= JAM_AFTER_SILENT_UNLOCKS) {
          // Pulsed twice and the door never moved: the bolt is stuck. Staff must look.
          enq.emit.send({ to: ALARMS, message: raise(`lock:${ctx.id}`, 'LOCK_JAMMED', 'critical', ctx.id, `Lock of compartment ${ctx.id} seems jammed: pulsed ${silentUnlocks} times, the door never moved`) });
          enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: false, code: 'LOCK_JAMMED' } });
          enq.emit.audit({ entry: { action: 'lock.jammed', subject: ctx.id, detail: { silentUnlocks } } });
          return { ...ctx, ...kept, state: 'fault', lock: 'locked', op: null, silentUnlocks, fault: { code: 'LOCK_JAMMED', since: e.now } };
        }
        return { ...ctx, ...kept, state: ctx.resumeTo, lock: 'locked', op: null, silentUnlocks };
      },

      'door.leftOpen': (ctx, _e, enq) => {
        if (ctx.door !== 'open') return;
        enq.emit.send({ to: ALARMS, message: raise(`door-open:${ctx.id}`, 'DOOR_LEFT_OPEN', 'warning', ctx.id, `Door of compartment ${ctx.id} has been open for over ${Math.round(timings.doorLeftOpenMs / 1000)} s`) });
        enq.emit.audit({ entry: { action: 'door.leftOpen', subject: ctx.id } });
        return { ...ctx, doorAlarm: true };
      },

      'service.set': (ctx, e, enq) => {
        const request = requestOf(e);
        if (!e.inService) {
          if (ctx.state === 'outOfService') return void (request && enq.emit.send(answer(request, null)));
          if (ctx.state !== 'free' && ctx.state !== 'occupied' && ctx.state !== 'fault') {
            return void (request && enq.emit.send(refuse(request, 'COMPARTMENT_BUSY', `compartment ${ctx.id} is ${ctx.state}; take it out of service when that is over`)));
          }
          if (request) enq.emit.send(answer(request, null));
          enq.emit.audit({ entry: { action: 'compartment.outOfService', actor: e.by, subject: ctx.id, detail: { reason: e.reason } } });
          enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: false, code: 'OUT_OF_SERVICE' } });
          return { ...ctx, state: 'outOfService', resumeTo: stable(ctx), service: { by: e.by, reason: e.reason, since: e.now } };
        }
        if (request) enq.emit.send(answer(request, null));
        if (ctx.state !== 'outOfService') return;
        enq.emit.audit({ entry: { action: 'compartment.inService', actor: e.by, subject: ctx.id } });
        enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: true } });
        return { ...ctx, state: ctx.fault ? 'fault' : ctx.resumeTo, service: null };
      },

      'board.status': (ctx, e, enq) => {
        if (!e.ok) {
          if (ctx.fault) return;
          const code = e.code ?? 'BOARD_FAULT';
          enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: false, code } });
          const kept = ctx.op && ctx.state === 'unlocking' ? report(ctx, enq, { type: 'compartment.unlockFailed', compartmentId: ctx.id, opId: ctx.op.id, purpose: ctx.op.purpose, pickupId: ctx.op.pickupId, code }) : {};
          if (ctx.op && ctx.state === 'unlocking') enq.emit.cancel({ key: 'window' });
          return { ...ctx, ...kept, state: ctx.state === 'outOfService' ? ctx.state : 'fault', resumeTo: stable(ctx), op: ctx.state === 'unlocking' ? null : ctx.op, fault: { code, since: e.now } };
        }
        if (!ctx.fault || !isBoardCode(ctx.fault.code)) return;
        enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: true } });
        return { ...ctx, state: ctx.state === 'outOfService' ? ctx.state : ctx.resumeTo, fault: null };
      },

      'fault.clear': (ctx, e, enq) => {
        const request = requestOf(e);
        if (request) enq.emit.send(answer(request, null));
        if (!ctx.fault) return;
        enq.emit.audit({ entry: { action: 'compartment.faultCleared', actor: e.by, subject: ctx.id, detail: { code: ctx.fault.code } } });
        enq.emit.send({ to: ALARMS, message: clear(`forced:${ctx.id}`) });
        enq.emit.send({ to: ALARMS, message: clear(`lock:${ctx.id}`) });
        enq.emit.send({ to: ALARMS, message: clear(`interrupted:${ctx.id}`) });
        enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: true } });
        return { ...ctx, state: ctx.state === 'outOfService' ? ctx.state : ctx.resumeTo, fault: null, silentUnlocks: 0 };
      },

      /**
       * A report the pickup's actor (or the registry, for a pickup an earlier version registered)
       * refused, failed for good: kept, in order, to be told again once it is back (a load's
       * closing door is what makes its pickup READY). One that crashed it is not: it restarts and
       * would crash on it again.
       */
      'delivery.failed': (ctx, e) => {
        if (e.crashed || !REPORTS.has(e.messageType)) return;
        const report = RegistryMessage.safeParse(e.message);
        if (!report.success) return;
        const own = reportTo(report.data);
        if (own === e.to) return { ...ctx, unsent: [...(ctx.unsent ?? []), report.data] };
        // For a pickup without an actor, refused by the registry it fell back to.
        if (e.to === REGISTRY && own.startsWith(PICKUP_PREFIX)) return { ...ctx, unsent: [...(ctx.unsent ?? []), { ...report.data, viaRegistry: true }] };
      },
      'delivery.resumed': (ctx, e, enq) => tellAgain(ctx, enq, e.to),

      // After a crash or a process restart: never resume halfway through an unlock. Ask the sensor.
      recovered: (ctx, _e, enq) => {
        // An unlock restored with its pulse done was pulsed by the stopped process. (One that a
        // redelivered message started in this process cannot have pulsed yet: its pulse's outcome
        // is queued behind this message.)
        const pulsedBeforeStop = ctx.state === 'unlocking' && ctx.op?.pulsedAt != null ? ctx.op.id : null;
        enq.emit.io({ op: { kind: 'readDoor', compartment: ctx.id, pulsedBeforeStop } });
        // What the registry refused before the stop goes first (refused again while it is still failed).
        const next = tellAgain(ctx, enq);
        // What this compartment holds is checked against the pickups: the one it holds hears it
        // (`occupancy.check`), and each pickup recorded in it asks (`occupancy.expect`). The
        // registry hears it too, and keeps a compartment that holds a pickup from new loads.
        enq.emit.send({ to: REGISTRY, message: { type: 'compartment.report', compartmentId: ctx.id, pickupId: ctx.pickupId, state: ctx.state } });
        if (ctx.pickupId !== null && ctx.state !== 'open') enq.emit.send({ to: pickupAddress(ctx.pickupId), message: { type: 'occupancy.check', compartmentId: ctx.id, reported: ctx.pickupId, pickupId: ctx.pickupId } });
        return next;
      },
      // After a crash, or revived by staff: what the registry refused is told again too. A
      // compartment failed for good when the registry was revived never heard `delivery.resumed`,
      // and every report it makes is kept behind those (see report): they would wait for the next
      // start. (Refused again, and kept, while the registry is still failed.)
      restarted: (ctx, e, enq) => {
        askTheDoor(ctx, e, enq);
        return tellAgain(ctx, enq);
      },
      /**
       * After a restart, a pickup recorded in this compartment asks what it holds: another pickup,
       * or nothing while the pickup is neither being loaded nor released (its door is part of
       * that), is a mismatch, named to staff. Open: the opening's outcome came, and its closing
       * checks the compartment against its pickup.
       */
      'occupancy.expect': (ctx, e, enq) => {
        if (ctx.state === 'open' || ctx.pickupId === e.pickupId) return;
        if (ctx.pickupId === null && (e.status === 'LOADING' || e.status === 'RELEASING')) return;
        occupancyMismatch(enq, ctx.id, ctx.pickupId ?? 'nothing', `pickup ${e.reference} (${e.status}) in it`, e.reference);
      },

      // Given only while neither a fault nor staff keep it out of service.
      'availability.report': (ctx, _e, enq) =>
        void enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: ctx.fault === null && ctx.state !== 'outOfService', ...(ctx.fault ? { code: ctx.fault.code } : ctx.state === 'outOfService' ? { code: 'OUT_OF_SERVICE' as const } : {}) } }),

      'door.reconciled': (ctx, e, enq) => {
        if (ctx.state === 'unlocking' && ctx.op) {
          if (e.door === 'open') {
            // The unlock went through before the interruption: carry on as if we had seen the door open.
            enq.emit.cancel({ key: 'window' });
            enq.emit.schedule({ key: 'doorOpen', at: e.now + timings.doorLeftOpenMs, message: { type: 'door.leftOpen' } });
            enq.emit.audit({ entry: { action: 'door.opened', subject: ctx.id, detail: { op: ctx.op.id, purpose: ctx.op.purpose, reconciled: true } } });
            const kept = report(ctx, enq, { type: 'compartment.opened', compartmentId: ctx.id, opId: ctx.op.id, purpose: ctx.op.purpose, pickupId: ctx.op.pickupId });
            return { ...ctx, ...kept, state: 'open', door: 'open', lock: 'locked', doorOpenedAt: e.now };
          }
          if (ctx.op.pulsedAt === null || e.pulsedBeforeStop === ctx.op.id) {
            // Intent without a known outcome and the door shut: we cannot tell whether the pulse
            // went out or, after the process stopped, whether the door opened and shut again
            // while nobody watched it (a document put in or taken out). Staff decides; never a
            // second automatic opening, and a compartment that may hold a document is not given out.
            enq.emit.cancel({ key: 'window' });
            enq.emit.audit({ entry: { action: 'unlock.interrupted', subject: ctx.id, detail: { op: ctx.op.id } } });
            const what = ctx.op.purpose === 'collect' ? ': if the document is still inside, clear the fault and the citizen\'s PIN works again; if it is gone, cancel the pickup' : ctx.op.purpose === 'load' ? ': if a document is inside, take it out before clearing the fault, then load again' : '';
            enq.emit.send({ to: ALARMS, message: raise(`interrupted:${ctx.id}`, 'UNLOCK_INTERRUPTED', 'critical', ctx.id, `Unlock of ${ctx.id} (${ctx.op.purpose}) was interrupted; check the compartment${what}`) });
            const kept = report(ctx, enq, { type: 'compartment.unlockFailed', compartmentId: ctx.id, opId: ctx.op.id, purpose: ctx.op.purpose, pickupId: ctx.op.pickupId, code: 'UNLOCK_INTERRUPTED' });
            enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: ctx.id, available: false, code: 'UNLOCK_INTERRUPTED' } });
            return { ...ctx, ...kept, state: 'fault', op: null, fault: { code: 'UNLOCK_INTERRUPTED', since: e.now } };
          }
          return; // pulsed and the window timer still runs: nothing to decide yet
        }
        if (e.door !== ctx.door) {
          // The door moved while we were not looking: handle it as a change now.
          enq.trigger['door.changed']!({ door: e.door, now: e.now });
        }
      },
    },
    async io(op) {
      if (op.kind === 'readDoor') return { type: 'door.reconciled', door: await hw.door(op.compartment), pulsedBeforeStop: op.pulsedBeforeStop ?? null };
      try {
        await hw.pulse(op.compartment);
        return { type: 'pulse.done', opId: op.opId };
      } catch (error) {
        return { type: 'pulse.failed', opId: op.opId, code: toErrorCode((error as { code?: unknown }).code, 'LOCK_FAILED') };
      }
    },
  });
}

function stable(ctx: CompartmentCtx): 'free' | 'occupied' {
  return ctx.state === 'free' || ctx.state === 'occupied' ? ctx.state : ctx.resumeTo;
}

function isBoardCode(code: string): boolean {
  return code.startsWith('I2C_') || code.startsWith('BOARD_');
}

export function causeText(cause: Cause): string {
  return cause.kind === 'session' ? `session:${cause.sessionId}` : `staff:${cause.staffId}`;
}
