import type { BoxOutgoing, BoxEnqueue } from './protocol.js';
import { z } from 'zod';
import { refuse, type Request } from './runtime/ask.js';
import { defineActor } from './runtime/define.js';
import { deleteRow, rowCount, rowsWhere, setRow, type RowIndex } from './runtime/table.js';
import type { Slot } from './allocation.js';
import { ALLOCATION, AUTH, errorCode, pickupAddress, pinQueuedSchema, purposeSchema, request } from './messages.js';
import { DomainError, type ErrorCode } from './domain/errors.js';
import { validateRegistration } from './domain/registration.js';
import type { Throttle } from './auth.js';
import { deliveryFailedSchema, pickupIo, type PickupActorCrypto, type PickupArchive, type PickupClaims, type PickupEvent } from './pickup-actor.js';
import {
  awaitingCompartment,
  claimedBy,
  givenDocumentNumber,
  holdsPin,
  livePin,
  occupancyMismatch,
  pickupLife,
  pickupRowEvent,
  type LegacyPickup,
  type Pickup,
  type PickupIo,
  type PickupPolicy,
  type Registration,
  type Step,
} from './pickup.js';

export { DOCUMENT_KINDS, type DocumentKind, type RegisterInput } from './domain/registration.js';

/**
 * The registry is the directory of pickups: it validates a registration, gives it its id and
 * spawns the pickup's own actor (`pickup/<id>`, actors/pickup-actor.ts) with its first row, in one
 * commit; it keeps every reference ever registered (never registered twice) and which pickups are
 * live, passes a staff command by reference on to its pickup, and names the live pickups to a
 * revived auth actor, outbox or allocation actor before telling each pickup to catch it up.
 *
 * It also still holds the pickups an earlier version registered, when the registry kept every
 * pickup (its `pickups` table): for those it finds the row a message concerns (by id, reference,
 * session or operation) and stores what the pickup's life (actors/pickup.ts) makes of it, one at
 * a time, as it did; and the hand-overs of what versions before the auth and allocation actors
 * kept here. A message to a pickup without an actor comes here (the supervisor's `fallback`):
 * such a row, or a pickup archived meanwhile.
 */
export interface RegistryCtx {
  /** pickups registered so far: the next one is `P<seq + 1>` (before 2 Dec 2026 it counted operations too) */
  seq: number;
  /**
   * The pickups registered before pickups were actors of their own (an earlier version's table):
   * they live out their lives here. Every pickup registered since is an actor, `pickup/<id>`.
   */
  pickups: Record<string, Pickup>;
  /** every reference ever registered, to its pickup's id: never registered twice, also once archived */
  byReference: Record<string, string>;
  /** the pickups that are actors of their own and not archived: told of the catch-ups after a revival (absent in state saved before) */
  live?: Record<string, true>;
  /**
   * Saved by a registry before the allocation actor existed, which chose compartments itself:
   * handed to the allocation actor once (`allocation.started`) and emptied. Until then (the first
   * start's recovery runs before the allocation actor is spawned) what the registry frees or learns
   * of a compartment is kept here. Absent otherwise, or empty once restored after the hand-over.
   */
  compartments?: Record<string, Slot>;
  /**
   * Saved by a registry before the auth actor existed, which checked PINs itself: the throttles
   * are handed to the auth actor once (`auth.started`) and these tables emptied, so their stored
   * rows are deleted. Absent otherwise.
   */
  numberThrottles?: Record<string, Throttle>;
  kioskThrottles?: Record<string, Throttle>;
  byNumber?: Record<string, string[]>;
}

export type RegistryPolicy = PickupPolicy;

/** What staff and the integration do with a pickup, by its reference. */
type StaffCommand = 'pickup.cancel' | 'pickup.load' | 'pickup.retrieve' | 'pickup.reissuePin';

/** The pickup's keyed hashing, and the making of PINs (their hash given with them). */
export type RegistryCrypto = PickupActorCrypto;


const registerInput = z.object({
  reference: z.string(),
  documentKind: z.string(),
  phone: z.string(),
  birthDate: z.string(),
  oldDocumentNumber: z.string().nullable().optional(),
  accessible: z.boolean().optional(),
  documents: z.number().optional(),
});
const compartmentReport = { compartmentId: z.string(), opId: z.string(), purpose: purposeSchema, pickupId: z.string().nullable() };

/** How a claim is given back (the registry's I/O), as a timer of an earlier version still names it. */
const releaseOpSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('releaseCompartment'), compartmentId: z.string(), owner: z.string() }),
  z.object({ kind: z.literal('releasePin'), key: z.string(), owner: z.string() }),
]);

/** Everything the registry takes, as a runtime schema. Commands are requests: they are always answered. */
export const RegistryMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pickup.register'), input: registerInput, ...request }),
  z.object({ type: z.literal('pickup.cancel'), reference: z.string(), by: z.string(), ...request }),
  z.object({ type: z.literal('pickup.load'), reference: z.string(), by: z.string(), ...request }),
  z.object({ type: z.literal('pickup.retrieve'), reference: z.string(), by: z.string(), ...request }),
  z.object({ type: z.literal('pickup.reissuePin'), reference: z.string(), by: z.string(), ...request }),
  z.object({ type: z.literal('pin.generated'), pickupId: z.string(), serial: z.number(), pin: z.string(), pinHash: z.string() }),
  pinQueuedSchema,
  // From the allocation actor. `failed`: the store could not be asked (nothing was claimed); the request is refused with the code.
  z.object({ type: z.literal('compartment.claimed'), pickupId: z.string(), compartmentId: z.string().nullable(), by: z.string(), failed: z.literal('STORAGE_UNAVAILABLE').optional(), ...request }),
  z.object({ type: z.literal('pin.claimed'), pickupId: z.string(), opId: z.string(), ok: z.boolean(), failed: z.literal('STORAGE_UNAVAILABLE').optional() }),
  // Only from a release this registry started on slots saved before the allocation actor existed (parked while storage was down, or in the first start after the upgrade): passed on.
  z.object({ type: z.literal('compartment.released'), compartmentId: z.string(), owner: z.string() }),
  // Only from timers committed by an earlier version, which retried a refused release itself; a
  // release storage refuses is now parked by the supervisor and run again once storage is back.
  z.object({ type: z.literal('claim.release'), op: releaseOpSchema }),
  // from the auth actor (actors/auth.ts)
  z.object({ type: z.literal('pin.matched'), sessionId: z.string(), kioskId: z.string(), pickupId: z.string(), serial: z.number() }),
  z.object({ type: z.literal('door.matched'), kioskId: z.string(), pickupId: z.string(), serial: z.number(), ...request }),
  // Each names one pickup (its partition: a pickup whose handling crashes fails alone). `pickups`,
  // `pickupIds`: several in one message, as an earlier version's auth actor sent them (still in a store).
  z
    .object({ type: z.literal('pin.missed'), kioskId: z.string(), pickupId: z.string().optional(), serial: z.number().optional(), pickups: z.array(z.object({ pickupId: z.string(), serial: z.number() })).optional() })
    .refine((m) => (m.pickups === undefined ? m.pickupId !== undefined && m.serial !== undefined : m.pickupId === undefined && m.serial === undefined), {
      message: 'names one pickup (pickupId and serial), or several (pickups) as an earlier version did',
    }),
  z
    .object({ type: z.literal('pin.resendFor'), kioskId: z.string(), pickupId: z.string().optional(), pickupIds: z.array(z.string()).optional() })
    .refine((m) => (m.pickupId !== undefined) !== (m.pickupIds !== undefined), { message: 'names one pickup (pickupId), or several (pickupIds) as an earlier version did' }),
  z.object({ type: z.literal('auth.started') }),
  /** restarted by the supervisor after a crash, or revived by staff after it failed for good */
  z.object({ type: z.literal('restarted'), code: errorCode.optional() }),
  /** the auth actor is back after a crash, or revived after it failed for good: it hears which PINs are live (`credential.expect`) */
  z.object({ type: z.literal('auth.restarted') }),
  /** the SMS outbox is back after a crash, or revived after it failed for good: it hears which PIN messages are not confirmed (`sms.expect`) */
  z.object({ type: z.literal('outbox.restarted') }),
  /**
   * A PIN message the outbox never got (refused while it was failed): its pickup gets a new PIN.
   * Without `pickupId`: several pickups' in one list, as an earlier version's outbox answered.
   */
  z.object({ type: z.literal('sms.missing'), ids: z.array(z.string()), pickupId: z.string().optional() }),
  /**
   * A PIN the auth actor never got (refused while it was failed): its pickup gets a new one.
   * `pickups`: several in one list, as an earlier version's auth actor answered.
   */
  z
    .object({ type: z.literal('credential.missing'), pickupId: z.string().optional(), serial: z.number().optional(), pickups: z.array(z.object({ pickupId: z.string(), serial: z.number() })).optional() })
    .refine((m) => (m.pickups === undefined ? m.pickupId !== undefined && m.serial !== undefined : m.pickupId === undefined && m.serial === undefined), {
      message: 'names one pickup (pickupId and serial), or several (pickups) as an earlier version did',
    }),
  z.object({ type: z.literal('allocation.started') }),
  // committed to the registry by an earlier version, which checked PINs itself: passed on to the auth actor
  z.object({ type: z.literal('auth.pin'), sessionId: z.string(), kioskId: z.string(), phone: z.string(), pin: z.string() }),
  z.object({ type: z.literal('pin.resend'), sessionId: z.string(), kioskId: z.string(), phone: z.string() }),
  z.object({ type: z.literal('auth.doorPin'), kioskId: z.string(), phone: z.string(), pin: z.string(), ...request }),
  // From a session, naming the pickup its PIN opened (absent from a session of an earlier version:
  // the pickup is the one the session holds a claim on).
  z.object({ type: z.literal('auth.oldDocument'), sessionId: z.string(), documentNumber: z.string(), pickupId: z.string().optional() }),
  z.object({ type: z.literal('auth.birthDate'), sessionId: z.string(), birthDate: z.string(), pickupId: z.string().optional() }),
  z.object({ type: z.literal('pickup.release'), sessionId: z.string(), pickupId: z.string().optional() }),
  /** through the auth actor, naming the pickup the session's PIN matched (absent from an earlier version's: the pickups it holds a claim on) */
  z.object({ type: z.literal('session.ended'), sessionId: z.string(), pickupId: z.string().optional() }),
  z.object({ type: z.literal('compartment.opened'), ...compartmentReport }),
  z.object({ type: z.literal('compartment.closed'), ...compartmentReport }),
  z.object({ type: z.literal('compartment.notOpened'), ...compartmentReport }),
  // `pickupId`: the pickup of the unlock (absent from a compartment of an earlier version: found by the op)
  z.object({ type: z.literal('compartment.unlockFailed'), compartmentId: z.string(), opId: z.string(), purpose: purposeSchema, pickupId: z.string().nullable().optional(), code: errorCode }),
  z.object({ type: z.literal('compartment.availability'), compartmentId: z.string(), available: z.boolean(), code: errorCode.optional() }),
  z.object({ type: z.literal('device.status'), device: z.enum(['reader', 'shredder']), available: z.boolean(), code: errorCode.nullable() }),
  z.object({ type: z.literal('actor.escalated'), actor: z.string(), kind: z.string(), code: errorCode }),
  z.object({ type: z.literal('pickup.remind'), pickupId: z.string() }),
  z.object({ type: z.literal('pickup.expire'), pickupId: z.string() }),
  z.object({ type: z.literal('pickup.purge'), pickupId: z.string() }),
  z.object({ type: z.literal('pickup.archived'), pickupId: z.string() }),
  z.object({ type: z.literal('compartment.report'), compartmentId: z.string(), pickupId: z.string().nullable(), state: z.string() }),
  /** from the allocation actor: a compartment said after a restart that it holds `reported` (null: nothing); is the pickup `pickupId` recorded in it? */
  z.object({ type: z.literal('occupancy.check'), compartmentId: z.string(), reported: z.string().nullable(), pickupId: z.string() }),
  /** an `allocate` to the allocation actor or an `unlock` to a compartment the registry sent came back */
  deliveryFailedSchema,
  /** From the allocation actor, restarted (a crash) or revived while it was choosing this pickup's compartment: the load is over. */
  z.object({ type: z.literal('load.abandoned'), pickupId: z.string() }),
  z.object({ type: z.literal('recovered') }),
]);
export type RegistryEvent = z.infer<typeof RegistryMessage>;

export type RegistryIo =
  | PickupIo
  /** a release of a claim in slots saved before the allocation actor existed (parked, named by an old timer, or freed in the first start after the upgrade, before the hand-over) */
  | { kind: 'releaseCompartment'; compartmentId: string; owner: string };

/** Atomic claims in the shared store (see src/persistence): keyv alone has no compare-and-set. */
export type RegistryClaims = PickupClaims;
export type { PickupArchive };

/**
 * Derived indexes over the pickup table (table.ts): carried along by every change of a row, so a
 * handler finds the pickups of a session, an operation or a compartment without a scan, and the
 * index can never disagree with the pickups it is made from. Not persisted: built again from the
 * pickups on first use after a start.
 */
const BY_CLAIM: RowIndex<Pickup> = { name: 'claim', keyOf: (p) => p.claim?.sessionId ?? null };
const BY_OP: RowIndex<Pickup> = { name: 'op', keyOf: (p) => p.opId };
/** live pickups by the compartment they name (their document may be in it) */
const IN_COMPARTMENT: RowIndex<Pickup> = { name: 'compartment', keyOf: (p) => (p.compartmentId && p.endedAt === null ? p.compartmentId : null) };

export function registryActor(policy: RegistryPolicy, crypto: RegistryCrypto, claims: RegistryClaims, archive: PickupArchive, boxName = 'box') {
  const compartmentKey = (id: string) => `${boxName}:compartment:${id}`;
  type Enq = BoxEnqueue<RegistryCtx, RegistryIo>;
  const life = pickupLife(policy, crypto);
  const io = pickupIo(crypto, claims, archive);

  const fail = (enq: Enq, e: Request, code: ErrorCode, message: string) => enq.emit.send(refuse(e, code, message));

  /**
   * The slots a registry saved before the allocation actor existed, while they are not yet handed
   * over (null after: restored, the emptied table comes back as an empty one).
   */
  const legacySlots = (ctx: RegistryCtx): Record<string, Slot> | null => (rowCount(ctx.compartments) > 0 ? ctx.compartments! : null);
  /**
   * The compartment no longer holds the pickup's document (or never got it): the allocation actor
   * frees its slot and gives the claim in the shared store back (`owner` null: no claim to give).
   */
  const free = (ctx: RegistryCtx, enq: Enq, compartmentId: string, owner: string | null): RegistryCtx => {
    const legacy = legacySlots(ctx);
    if (!legacy) return (enq.emit.send({ to: ALLOCATION, message: { type: 'free', compartmentId, owner } }), ctx);
    // Saved before the allocation actor existed and not yet handed over (the first start's
    // recovery, before the allocation actor is spawned): freed in the slots handed over, the claim
    // given back as that version did; the slot keeps the owner until the allocation actor confirms.
    const c = legacy[compartmentId];
    if (!c) return ctx;
    if (owner !== null) enq.emit.io({ op: { kind: 'releaseCompartment', compartmentId, owner } });
    return { ...ctx, compartments: setRow(legacy, compartmentId, { ...c, pickupId: null, claimedBy: owner ?? c.claimedBy ?? null }) };
  };
  /** `abandon` on the slots a registry saved before the allocation actor existed, not yet handed over. */
  const abandonLegacy = (ctx: RegistryCtx, owner: string, enq: Enq): RegistryCtx => {
    let compartments = legacySlots(ctx)!;
    for (const [id, c] of Object.entries(compartments)) {
      if (c.pickupId !== null) continue;
      enq.emit.io({ op: { kind: 'releaseCompartment', compartmentId: id, owner } });
      if (!c.claimedBy) compartments = setRow(compartments, id, { ...c, claimedBy: owner });
    }
    return { ...ctx, compartments };
  };

  /**
   * The registry's context while one message changes pickups: `step` is what the pickup's life
   * (actors/pickup.ts) needs (a freed compartment goes to the allocation actor, or to the slots
   * still to be handed over), `set` stores a row it
   * returns, `done` is the new context (undefined: nothing changed).
   */
  interface Draft {
    ctx: RegistryCtx;
    readonly step: Step;
    set(row: Pickup | undefined): void;
    done(): RegistryCtx | undefined;
  }
  const draft = (ctx: RegistryCtx, now: number, enq: Enq): Draft => {
    const d: Draft = {
      ctx,
      step: {
        now,
        enq,
        free: (compartmentId, owner) => void (d.ctx = free(d.ctx, enq, compartmentId, owner)),
      },
      set: (row) => void (row && (d.ctx = { ...d.ctx, pickups: setRow(d.ctx.pickups, row.id, row) })),
      done: () => (d.ctx === ctx ? undefined : d.ctx),
    };
    return d;
  };
  /** A step for work that changes no row (answers, notices sent again): it frees nothing. */
  const noteStep = (now: number, enq: Enq): Step => ({
    now,
    enq,
    free: () => {
      throw new Error('a note changes no pickup: it frees no compartment');
    },
  });
  /** One pickup changes: the row `change` returns is stored (none: nothing changed). */
  const one = (ctx: RegistryCtx, now: number, enq: Enq, change: (s: Step) => Pickup | undefined): RegistryCtx | undefined => {
    const d = draft(ctx, now, enq);
    d.set(change(d.step));
    return d.done();
  };
  /** The pickup `pickupId` names changes, if the registry has it. */
  const ofPickup = (ctx: RegistryCtx, pickupId: string | null, now: number, enq: Enq, change: (p: Pickup, s: Step) => Pickup | undefined) => {
    const p = pickupId === null ? undefined : ctx.pickups[pickupId];
    return p && one(ctx, now, enq, (s) => change(p, s));
  };
  /**
   * A staff command on the pickup of a reference: passed on to the pickup's actor with its request
   * (the pickup answers), or run here on a pickup an earlier version registered; refused
   * PICKUP_NOT_FOUND when there is none (or it was archived).
   */
  const byReference = <E extends Request & { type: StaffCommand; reference: string; by: string; now: number }>(ctx: RegistryCtx, e: E, enq: Enq, command: (p: Pickup, e: E, s: Step) => Pickup | undefined) => {
    const id = ctx.byReference[e.reference.trim()];
    const p = id ? ctx.pickups[id] : undefined;
    if (p) return one(ctx, e.now, enq, (s) => command(p, e, s));
    if (id === undefined || !ctx.live?.[id]) return void fail(enq, e, 'PICKUP_NOT_FOUND', `no pickup ${e.reference}`);
    const message = { type: e.type, reference: e.reference, by: e.by, requestId: e.requestId, replyTo: e.replyTo } as Extract<PickupEvent, { type: StaffCommand }>;
    enq.emit.send({ to: pickupAddress(id), message });
  };
  /** The pickups that are actors of their own, told `type` (a catch-up: each answers for itself). */
  const tellLive = (ctx: RegistryCtx, enq: Enq, type: 'auth.restarted' | 'auth.started' | 'outbox.restarted' | 'allocation.started'): string[] => {
    const ids = Object.keys(ctx.live ?? {});
    for (const id of ids) enq.emit.send({ to: pickupAddress(id), message: { type } });
    return ids;
  };
  /** The pickup the session holds a live claim on: the one it names, or (unnamed) the one the claim index finds. */
  const claimed = (ctx: RegistryCtx, sessionId: string, now: number, pickupId?: string) => {
    if (pickupId !== undefined) return claimedBy(ctx.pickups[pickupId], sessionId, now) ? ctx.pickups[pickupId] : undefined;
    return rowsWhere(ctx.pickups, BY_CLAIM, sessionId).find((p) => claimedBy(p, sessionId, now));
  };
  /** A second factor from the session: checked on the pickup it holds a claim on. */
  const secondFactor = (ctx: RegistryCtx, e: { sessionId: string; pickupId?: string; now: number }, factor: 'oldId' | 'birthDate', given: string | null, enq: Enq) =>
    one(ctx, e.now, enq, (s) => life.secondFactor(claimed(ctx, e.sessionId, e.now, e.pickupId), e.sessionId, factor, given, s));

  /**
   * The pickup of an unlock a compartment reports on: the one it names, or (a compartment of an
   * earlier version names none) the one the op index finds.
   */
  const ofUnlock = (ctx: RegistryCtx, m: { pickupId?: string | null; opId: string }): Pickup | undefined =>
    m.pickupId === undefined ? rowsWhere(ctx.pickups, BY_OP, m.opId)[0] : m.pickupId === null ? undefined : ctx.pickups[m.pickupId];

  /**
   * What a registry saved before the auth actor existed holds of PINs and throttles goes to the auth
   * actor, once. `lostAuth`: the auth actor is new (its state lost or reset), so a PIN handed to an
   * earlier one is replaced; false after a crash of the registry itself, which hands over only what
   * is left.
   */
  const handOver = (ctx: RegistryCtx, now: number, enq: Enq, lostAuth: boolean): RegistryCtx | undefined => {
    const credentials: Array<{ pickupId: string; numberKey: string; serial: number; pinHash: string }> = [];
    const d = draft(ctx, now, enq);
    // (A table emptied by the hand-over comes back from storage as an empty one: nothing left.)
    let legacy = rowCount(ctx.numberThrottles) > 0 || rowCount(ctx.kioskThrottles) > 0 || rowCount(ctx.byNumber) > 0;
    for (const p of Object.values(ctx.pickups) as LegacyPickup[]) {
      if ('pinHash' in p) {
        legacy = true;
        // Saved before the auth actor: its hash is handed over and leaves the row.
        const { pinHash, ...row } = p;
        if (pinHash && p.phone && livePin(p)) credentials.push({ pickupId: p.id, numberKey: crypto.numberKey(p.phone), serial: p.pinSerial, pinHash });
        // A row re-PINned since the start (pin.generated before this) keeps what it says: its hash went to auth already.
        const handed: Pickup = { ...row, pinIssued: p.pinIssued ?? Boolean(pinHash) };
        d.set(handed);
        // The box's readers see the row as it is now (the projection compares whole rows).
        enq.emit.publish({ event: pickupRowEvent(p.id, handed) });
      } else if (lostAuth) {
        d.set(life.authLost(p, d.step));
      }
    }
    if (legacy) {
      enq.emit.send({ to: AUTH, message: { type: 'auth.adopt', credentials, numberThrottles: { ...ctx.numberThrottles }, kioskThrottles: { ...ctx.kioskThrottles } } });
      enq.emit.audit({ entry: { action: 'auth.handedOver', detail: { credentials: credentials.length } } });
      const { numberThrottles: _n, kioskThrottles: _k, byNumber: _b, ...rest } = d.ctx;
      d.ctx = rest;
    }
    return d.done();
  };

  /**
   * The pickup a message concerns, so that a pickup whose handling keeps crashing the registry
   * (a damaged row, a bug one pickup's data hits) fails alone: its crashes count against it, and
   * past the restart intensity it is quarantined (PICKUP_FAILED) while every other pickup is
   * served (see ActorBehavior.partitionOf). A wrong PIN (`pin.missed`), a resend
   * (`pin.resendFor`) and what a catch-up finds lost (`credential.missing`, `sms.missing`) name one
   * pickup each. Messages that concern no single pickup give null and crash the registry as
   * before, counting against it: a right PIN (`pin.matched` and `door.matched` answer for a
   * quarantined pickup themselves), an earlier version's messages naming several pickups,
   * the catch-ups' starts (`auth.restarted`, `outbox.restarted`), registrations of a new reference, compartment and device
   * reports, claims given back, `recovered` (every pickup at once).
   */
  const partitionOf = (ctx: RegistryCtx, m: RegistryEvent): string | null => {
    const ofReference = (reference: string) => ctx.byReference[reference.trim()] ?? null;
    const ofSession = (sessionId: string) => rowsWhere(ctx.pickups, BY_CLAIM, sessionId)[0]?.id ?? null;
    switch (m.type) {
      case 'pickup.register':
        return ofReference(m.input.reference);
      case 'pickup.cancel':
      case 'pickup.load':
      case 'pickup.retrieve':
      case 'pickup.reissuePin':
        return ofReference(m.reference);
      case 'pin.missed':
      case 'pin.resendFor':
      case 'credential.missing':
      case 'sms.missing':
        // (null for an earlier version's message naming several)
        return m.pickupId ?? null;
      case 'pin.generated':
      case 'pin.queued':
      case 'pin.claimed':
      case 'compartment.claimed':
      case 'load.abandoned':
      case 'pickup.remind':
      case 'pickup.expire':
      case 'pickup.purge':
      case 'pickup.archived':
      case 'compartment.opened':
      case 'compartment.closed':
      case 'compartment.notOpened':
      case 'occupancy.check':
        return m.pickupId;
      case 'compartment.unlockFailed':
        return ofUnlock(ctx, m)?.id ?? m.pickupId ?? null;
      case 'delivery.failed':
        return m.message?.pickupId ?? null;
      case 'auth.oldDocument':
      case 'auth.birthDate':
      case 'pickup.release':
        return m.pickupId ?? ofSession(m.sessionId);
      case 'session.ended':
        return m.pickupId ?? ofSession(m.sessionId);
      default:
        return null;
    }
  };

  return defineActor<RegistryCtx, RegistryEvent, RegistryIo, BoxOutgoing>({
    kind: 'registry',
    messages: RegistryMessage,
    partitionOf,
    partitionCode: 'PICKUP_FAILED',
    // Every pickup is a row of its own: a commit writes the pickups it changed, not all of them.
    // (`compartments` only holds what a registry saved before the allocation actor, and the last
    // three what one saved before the auth actor, until handed over.)
    tables: ['pickups', 'byReference', 'live', 'compartments', 'numberThrottles', 'kioskThrottles', 'byNumber'],
    init: () => ({
      seq: 0,
      pickups: {},
      byReference: {},
      live: {},
    }),
    on: {
      'pickup.register': (ctx, e, enq) => {
        let valid: Registration;
        try {
          valid = validateRegistration(e.input, e.now, policy.timeZone);
        } catch (error) {
          if (error instanceof DomainError) return void fail(enq, e, error.code, error.message);
          throw error;
        }
        if (ctx.byReference[valid.reference]) return void fail(enq, e, 'PICKUP_EXISTS', `a pickup with reference ${valid.reference} exists`);
        // Its own actor, spawned with its first row in this commit (its answer leaves after it).
        const id = `P${ctx.seq + 1}`;
        const row = life.register(id, valid, e, noteStep(e.now, enq));
        enq.emit.spawn({ address: pickupAddress(id), kind: 'pickup', input: { row } });
        return { ...ctx, seq: ctx.seq + 1, byReference: setRow(ctx.byReference, valid.reference, id), live: setRow(ctx.live, id, true) };
      },
      'pickup.cancel': (ctx, e, enq) => byReference(ctx, e, enq, life.cancel),
      'pickup.load': (ctx, e, enq) => byReference(ctx, e, enq, life.load),
      'pickup.retrieve': (ctx, e, enq) => byReference(ctx, e, enq, life.retrieve),
      'pickup.reissuePin': (ctx, e, enq) => byReference(ctx, e, enq, life.reissuePin),
      'compartment.claimed': (ctx, e, enq) => one(ctx, e.now, enq, (s) => life.compartmentClaimed(ctx.pickups[e.pickupId], e, s)),

      /**
       * "I have not received an SMS", after the auth actor counted the request on its throttles and
       * answered the panel: every READY pickup of the number within its daily budget gets a new PIN.
       * A quarantined one gets none (its handling is what crashes).
       */
      'pin.resendFor': (ctx, e, enq) => {
        const d = draft(ctx, e.now, enq);
        for (const id of e.pickupIds ?? [e.pickupId!]) {
          const p = d.ctx.pickups[id];
          if (p && !e.quarantined?.has(p.id)) d.set(life.resend(p, e.kioskId, d.step));
        }
        return d.done();
      },
      'pin.generated': (ctx, e, enq) => ofPickup(ctx, e.pickupId, e.now, enq, (p, s) => life.pinGenerated(p, e, s)),
      'pin.queued': (ctx, e, enq) => ofPickup(ctx, e.pickupId, e.now, enq, (p, s) => life.pinQueued(p, e.serial, s)),
      'pin.matched': (ctx, e, enq) => one(ctx, e.now, enq, (s) => life.pinMatched(ctx.pickups[e.pickupId], e, e.quarantined?.has(e.pickupId) ?? false, s)),
      'door.matched': (ctx, e, enq) => life.doorMatched(ctx.pickups[e.pickupId], e, e.quarantined?.has(e.pickupId) ?? false, noteStep(e.now, enq)),

      /**
       * A wrong PIN on a number with live pickups (one message for each): counted on the pickup if
       * it is READY with that PIN still, toward its lock (audited `auth.failed` by the pickup).
       * Otherwise (its PIN was renewed or held meanwhile) it is audited as not counted: not as
       * `auth.failed`, which the metrics count once per failure, and the number's other pickup may
       * have counted it. An earlier version's message names all of the number's pickups: one
       * `auth.failed` for the kiosk when it counted on none, and a quarantined pickup is left alone.
       */
      'pin.missed': (ctx, e, enq) => {
        const d = draft(ctx, e.now, enq);
        for (const { pickupId, serial } of e.pickups ?? [{ pickupId: e.pickupId!, serial: e.serial! }]) {
          const p = d.ctx.pickups[pickupId];
          if (p && !e.quarantined?.has(pickupId)) d.set(life.pinMissed(p, serial, d.step));
        }
        if (d.ctx !== ctx) return d.done();
        if (e.pickups) enq.emit.audit({ entry: { action: 'auth.failed', actor: e.kioskId, detail: { factor: 'pin' } } });
        else enq.emit.audit({ entry: { action: 'pin.notCounted', actor: e.kioskId, subject: ctx.pickups[e.pickupId!]?.reference ?? e.pickupId!, detail: { factor: 'pin' } } });
      },

      // PIN attempts an earlier version committed to the registry, which checked PINs itself: the
      // auth actor checks them now.
      'auth.pin': (_ctx, e, enq) =>
        void enq.emit.send({ to: AUTH, message: { type: 'auth.pin', sessionId: e.sessionId, kioskId: e.kioskId, phone: e.phone, pin: e.pin } }),
      'pin.resend': (_ctx, e, enq) => void enq.emit.send({ to: AUTH, message: { type: 'pin.resend', sessionId: e.sessionId, kioskId: e.kioskId, phone: e.phone } }),
      'auth.doorPin': (_ctx, e, enq) =>
        void enq.emit.send({ to: AUTH, message: { type: 'auth.doorPin', kioskId: e.kioskId, phone: e.phone, pin: e.pin, requestId: e.requestId, replyTo: e.replyTo } }),

      /**
       * A new auth actor: PIN hashes and throttles a registry saved before it existed (which checked
       * PINs itself) are handed over once, and leave the registry's state. Nothing to hand over on
       * a box that started with the auth actor. A READY pickup whose PIN was handed to an auth
       * actor before this one (its state was lost or reset by a maintainer) gets a new PIN by SMS:
       * the old one's hash is gone, so it could never open again.
       */
      'auth.started': (ctx, e, enq) => {
        tellLive(ctx, enq, 'auth.started');
        return handOver(ctx, e.now, enq, true);
      },

      /**
       * Restarted after a crash: a hand-over to the auth actor that the crash cut short is done
       * now (`auth.started` does not come again). Nothing else: the auth actor's state was not lost.
       */
      restarted: (ctx, e, enq) => handOver(ctx, e.now, enq, false),

      /**
       * The outbox is back after a crash or a revival: each pickup names the PIN message it has
       * not heard confirmed, and the outbox answers for those it never got; reminders and expiry
       * notices are sent again word for word (see the pickup's `outboxBack`).
       */
      'outbox.restarted': (ctx, e, enq) => {
        const step = noteStep(e.now, enq);
        for (const p of Object.values(ctx.pickups)) life.outboxBack(p, step);
        tellLive(ctx, enq, 'outbox.restarted');
      },

      /** A PIN message the outbox never got (an earlier version's outbox named several pickups': a quarantined one is left alone). */
      'sms.missing': (ctx, e, enq) => {
        const missing = new Set(e.ids);
        const d = draft(ctx, e.now, enq);
        const named = e.pickupId === undefined ? Object.values(ctx.pickups).filter((p) => !e.quarantined?.has(p.id)) : [ctx.pickups[e.pickupId]];
        for (const p of named) if (p) d.set(life.smsMissing(p, missing, d.step));
        return d.done();
      },

      /**
       * The auth actor is back after a crash or a revival: it hears which pickups hold a PIN, and
       * drops what it holds beyond them, then each pickup's PIN (see the pickup's
       * `expectCredential`). (Sent after every `credential.*` before it, in order.)
       */
      'auth.restarted': (ctx, e, enq) => {
        // (Every pickup of its own is named: each says itself whether it holds a PIN.)
        const holding = Object.values(ctx.pickups).filter(holdsPin);
        enq.emit.send({ to: AUTH, message: { type: 'credential.live', pickupIds: [...holding.map((p) => p.id), ...Object.keys(ctx.live ?? {})], upTo: ctx.seq } });
        const step = noteStep(e.now, enq);
        for (const p of holding) life.expectCredential(p, step);
        tellLive(ctx, enq, 'auth.restarted');
      },

      /** A PIN the auth actor never got (an earlier version's auth actor named several: a quarantined pickup is left alone). */
      'credential.missing': (ctx, e, enq) => {
        const d = draft(ctx, e.now, enq);
        for (const { pickupId, serial } of e.pickups ?? [{ pickupId: e.pickupId!, serial: e.serial! }]) {
          const p = d.ctx.pickups[pickupId];
          if (p && !(e.pickups && e.quarantined?.has(pickupId))) d.set(life.credentialMissing(p, serial, d.step));
        }
        return d.done();
      },

      /**
       * The allocation actor started, or restarted, was revived or recovered: it learns which
       * compartments hold a pickup, and which pickups wait for one (their slots, won meanwhile, are
       * kept); what it has otherwise is mended. Pickup by pickup, as each pickup will answer for
       * itself once it is an actor of its own: each one's compartment (`slot.expect`), then which
       * pickups may have one (`slots.live`; slots given to any other go).
       * A registry saved before the allocation actor existed first hands over its own slot table
       * (merged only), which then leaves the registry's state.
       */
      'allocation.started': (ctx, e, enq) => {
        if (rowCount(ctx.compartments) > 0) {
          const slots: Record<string, Partial<Slot>> = {};
          for (const [id, c] of Object.entries(ctx.compartments!)) {
            // A saved slot holding a pickup no live pickup puts there was reserved by the
            // compartment's report: handed over as such, or it would be mended away.
            const reported = c.pickupId !== null && ctx.pickups[c.pickupId]?.compartmentId !== id;
            slots[id] = reported ? { ...c, reported: true } : c;
          }
          enq.emit.send({ to: ALLOCATION, message: { type: 'allocation.adopt', slots } });
        }
        // The rows of this table first, each its compartment, then the list: a compartment another
        // such row holds now changes owner before the list frees the slots of pickups gone, so its
        // claim in the shared store is kept. Every pickup of its own is named in the list and told;
        // each says itself which compartment it is in, after the list (its answer takes a turn
        // more), so a compartment changing owner to it has its claim given back on the way (the
        // slot ends the same: docs/pickup-actors.md).
        const placed = Object.values(ctx.pickups).filter((p) => (p.compartmentId !== null && p.endedAt === null) || awaitingCompartment(p));
        const step = noteStep(e.now, enq);
        for (const p of placed) life.expectSlot(p, step);
        const own = tellLive(ctx, enq, 'allocation.started');
        enq.emit.send({ to: ALLOCATION, message: { type: 'slots.live', pickupIds: [...placed.map((p) => p.id), ...own], upTo: ctx.seq } });
        if (ctx.compartments === undefined) return;
        const { compartments: _c, ...rest } = ctx;
        return rest;
      },

      'auth.oldDocument': (ctx, e, enq) => secondFactor(ctx, e, 'oldId', givenDocumentNumber(e.documentNumber), enq),
      'auth.birthDate': (ctx, e, enq) => secondFactor(ctx, e, 'birthDate', e.birthDate, enq),
      'pickup.release': (ctx, e, enq) => one(ctx, e.now, enq, (s) => life.release(claimed(ctx, e.sessionId, e.now, e.pickupId), e.sessionId, s)),
      'pin.claimed': (ctx, e, enq) => ofPickup(ctx, e.pickupId, e.now, enq, (p, s) => life.pinClaimed(p, e, s)),

      'claim.release': (_ctx, e, enq) => {
        enq.emit.io({ op: e.op });
      },

      'compartment.released': (_ctx, e, enq) => void enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.released', compartmentId: e.compartmentId, owner: e.owner } }),

      'session.ended': (ctx, e, enq) => {
        const d = draft(ctx, e.now, enq);
        const held = e.pickupId === undefined ? rowsWhere(ctx.pickups, BY_CLAIM, e.sessionId) : [ctx.pickups[e.pickupId]];
        for (const p of held) if (p?.claim?.sessionId === e.sessionId) d.set(life.sessionEnded(p, d.step));
        return d.done();
      },

      'compartment.opened': (ctx, e, enq) => ofPickup(ctx, e.pickupId, e.now, enq, (p, s) => life.opened(p, e, s)),

      'compartment.closed': (ctx, e, enq) => {
        if (e.purpose === 'load') return ofPickup(ctx, e.pickupId, e.now, enq, (p, s) => life.loaded(p, e, s));
        if (e.purpose === 'service') return;
        // (An archived pickup's row is gone: the compartment is freed without a claim to give back.)
        return one(ctx, e.now, enq, (s) => life.closedAfterOpening(e.pickupId === null ? undefined : ctx.pickups[e.pickupId], e, s));
      },

      'compartment.notOpened': (ctx, e, enq) => ofPickup(ctx, e.pickupId, e.now, enq, (p, s) => life.notOpened(p, e, s)),

      'compartment.unlockFailed': (ctx, e, enq) => {
        const p = ofUnlock(ctx, e);
        if (!p || p.opId !== e.opId) return;
        return one(ctx, e.now, enq, (s) => life.unlockRefused(p, e.purpose, e.compartmentId, s));
      },

      // The allocation actor restarted while choosing the compartment (its claims given back): staff load again.
      'load.abandoned': (ctx, e, enq) => one(ctx, e.now, enq, (s) => life.loadAbandoned(ctx.pickups[e.pickupId], s)),

      // The allocation actor or the compartment failed for good, or crashed on it, and took nothing: as if refused.
      'delivery.failed': (ctx, e, enq) => ofPickup(ctx, e.message?.pickupId ?? null, e.now, enq, (p, s) => life.deliveryFailed(p, e, s)),

      // Sent to a registry before the allocation actor existed, which keeps the slots now (kept in
      // the slots still to be handed over, while they are: the allocation actor does not exist yet).
      'compartment.availability': (ctx, e, enq) => {
        const legacy = legacySlots(ctx)?.[e.compartmentId];
        if (legacy) return { ...ctx, compartments: setRow(ctx.compartments, e.compartmentId, { ...legacy, available: e.available }) };
        enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: e.compartmentId, available: e.available, ...(e.code ? { code: e.code } : {}) } });
      },

      // Sent to a registry by earlier versions, which kept a copy of the devices' state: the reader
      // answers for itself now (and the supervisor's alarm sink raised ACTOR_FAILED already).
      'device.status': () => undefined,
      'actor.escalated': (_ctx, e, enq) => {
        const [kind, id] = e.actor.split('/');
        if (kind === 'compartment' && id) enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.availability', compartmentId: id, available: false, code: e.code } });
      },

      'pickup.remind': (ctx, e, enq) => ofPickup(ctx, e.pickupId, e.now, enq, life.remind),
      'pickup.expire': (ctx, e, enq) => ofPickup(ctx, e.pickupId, e.now, enq, life.expire),
      'pickup.purge': (ctx, e, enq) => ofPickup(ctx, e.pickupId, e.now, enq, life.purge),

      'pickup.archived': (ctx, e, enq) => {
        // A pickup of its own stopped and told its readers; it leaves the live ones.
        if (ctx.live?.[e.pickupId]) return { ...ctx, live: deleteRow(ctx.live, e.pickupId) };
        if (!ctx.pickups[e.pickupId]) return;
        // The reference stays in byReference (pointing at nothing live) so it cannot be registered twice.
        enq.emit.publish({ event: pickupRowEvent(e.pickupId, null) });
        return { ...ctx, pickups: deleteRow(ctx.pickups, e.pickupId) };
      },

      // After a process restart, once every message committed before the stop has been handled
      // again: each pickup finishes or undoes what the stop cut short (see the pickup's `recover`).
      recovered: (ctx, e, enq) => {
        const d = draft(ctx, e.now, enq);
        // The copy of the devices' state an earlier version kept (the reader answers for itself now).
        if ('devices' in ctx) d.ctx = (({ devices: _devices, ...rest }) => rest)(ctx as RegistryCtx & { devices?: unknown });
        // The derived indexes are built now, at the start, not at the first citizen's request.
        for (const index of [BY_CLAIM, BY_OP, IN_COMPARTMENT]) rowsWhere(ctx.pickups, index, '');
        for (const p of Object.values(ctx.pickups)) {
          // Interrupted while winning a compartment: the allocation actor gives back whatever it
          // may have won. Saved before the allocation actor existed, the registry still holds the
          // slots (the allocation actor, spawned after this start's recovery, would never get the
          // message): given back from here as that version did, and the slots keep the owner, so
          // the allocation actor gives it back again on adoption.
          const loadCut = () => {
            if (legacySlots(d.ctx)) d.ctx = abandonLegacy(d.ctx, p.reference, enq);
            else enq.emit.send({ to: ALLOCATION, message: { type: 'abandon', owner: p.reference } });
          };
          d.set(life.recover(p, d.step, loadCut));
        }
        return d.done();
      },

      // A compartment tells what it holds after a restart (its pickup and the pickups recorded in
      // it check that with it: `occupancy.check`, `occupancy.expect`): one that holds a pickup is
      // kept from new loads (`reserve`: if its slot is free). In the first start after the upgrade
      // from a version before the allocation actor (which does not exist yet: compartments report
      // before it is spawned), the registry checks it against its pickups and reserves it in the
      // slots it still keeps itself.
      'compartment.report': (ctx, e, enq) => {
        // Open: the opening's outcome came, and its closing checks the compartment against its pickup.
        if (e.state === 'open') return;
        const slots = legacySlots(ctx);
        if (!slots) {
          if (e.pickupId !== null) enq.emit.send({ to: ALLOCATION, message: { type: 'reserve', compartmentId: e.compartmentId, pickupId: e.pickupId } });
          return;
        }
        const named = rowsWhere(ctx.pickups, IN_COMPARTMENT, e.compartmentId)[0];
        const loading = named?.status === 'LOADING';
        const mismatch = e.pickupId !== null ? named?.id !== e.pickupId : named !== undefined && !loading && named.status !== 'RELEASING';
        if (!mismatch) return;
        const held = e.pickupId ? (ctx.pickups[e.pickupId]?.reference ?? e.pickupId) : 'nothing';
        occupancyMismatch(enq, e.compartmentId, held, named ? `pickup ${named.reference} (${named.status})` : 'no pickup', named?.reference ?? null);
        // Whatever the compartment says it holds keeps it reserved.
        const legacy = slots[e.compartmentId];
        if (e.pickupId !== null && legacy?.pickupId === null) return { ...ctx, compartments: setRow(slots, e.compartmentId, { ...legacy, pickupId: e.pickupId }) };
      },

      /** After a restart, the compartment that holds the pickup says so: is it recorded there? (see the life's occupancyCheck) */
      'occupancy.check': (ctx, e, enq) => life.occupancyCheck(ctx.pickups[e.pickupId], e, noteStep(e.now, enq)),
    },
    async io(op) {
      // A release storage refuses rejects with STORAGE_UNAVAILABLE: the supervisor parks it and
      // runs it again once storage takes writes; the slot keeps the owner until it is confirmed.
      if (op.kind === 'releaseCompartment') {
        await claims.release(compartmentKey(op.compartmentId), op.owner);
        return { type: 'compartment.released', compartmentId: op.compartmentId, owner: op.owner };
      }
      return io(op);
    },
  });
}
