import type { BoxOutgoing, BoxEnqueue } from './protocol.js';
import type { OutboxEvent } from './outbox.js';
import type { SessionEvent } from './session.js';
import { z } from 'zod';
import { answer, refuse, REPLIES, type Request } from './runtime/ask.js';
import { defineActor } from './runtime/define.js';
import { deleteRow, rowCount, rowsWhere, setRow, type RowIndex } from './runtime/table.js';
import type { Slot } from './allocation.js';
import {
  ALARMS,
  ALLOCATION,
  AUTH,
  OUTBOX,
  REGISTRY,
  ROOM_DOOR,
  clear,
  compartmentAddress,
  raise,
  sessionAddress,
  errorCode,
  pinQueuedSchema,
  purposeSchema,
  request,
  type Cause,
  type Purpose,
} from './messages.js';
import { DomainError, type ErrorCode } from './domain/errors.js';
import { localDate } from './domain/dates.js';
import { validateDocumentNumber } from './domain/mrz.js';
import { validateRegistration, type DocumentKind } from './domain/registration.js';
import type { Throttle } from './auth.js';

export { DOCUMENT_KINDS, type DocumentKind, type RegisterInput } from './domain/registration.js';

/**
 * The registry is the single writer of pickups and of their attempt counters. Which compartment a
 * pickup goes into is the allocation actor's choice (actors/allocation.ts), which holds the slot
 * table and the claims on compartments; the registry asks it for one and tells it when one is free. A PIN is checked by the auth actor (actors/auth.ts), which holds the
 * PIN hashes and the throttles; what a match means — the pickup claimed by the session, or busy —
 * and every second factor are decided here, one at a time, so two sessions racing for one pickup
 * cannot both win, and no request can multiply guesses.
 */


export type PickupStatus =
  | 'REGISTERED' // known, not yet in the box
  | 'LOADING' // staff is putting it into a compartment
  | 'READY' // in the box, PIN sent
  | 'RELEASING' // authenticated, compartment unlocking
  | 'COLLECTED'
  | 'LOCKED' // too many failed attempts: staff must reissue a PIN
  | 'EXPIRED' // window over: staff takes it back to the counter
  | 'RETURNED' // staff took it out of the box
  | 'CANCELLED';

export interface Pickup {
  id: string;
  reference: string;
  documentKind: DocumentKind;
  documents: number;
  accessible: boolean;
  status: PickupStatus;
  /** personal data, deleted after the audit period once the pickup is over */
  phone: string | null;
  birthDate: string | null;
  oldDocumentNumber: string | null;
  pinSerial: number;
  /**
   * The PIN of `pinSerial` was made: its SMS went to the outbox and its keyed hash to the auth
   * actor, which alone holds it, in the same commit. (Absent in state saved before the auth actor:
   * those rows carry `pinHash` until it is handed over, see `auth.started`.)
   */
  pinIssued?: boolean;
  /** the outbox has committed the SMS carrying the current PIN */
  pinQueued: boolean;
  compartmentId: string | null;
  failedAttempts: number;
  /** the session that passed the PIN check, and which second factor it passed */
  claim: { sessionId: string; until: number; factor: 'oldId' | 'birthDate' | null } | null;
  opId: string | null;
  /** RELEASING: the unlock went to the compartment (committed with this flag), so its outcome will come */
  unlockSent?: boolean;
  /**
   * LOADING: the staff member's load request the allocation actor is choosing a compartment for;
   * a compartment won for an earlier request (asked before a restart) is not this load's. Absent
   * in rows saved before it was kept, and once the compartment is chosen.
   */
  loadRequest?: string | null;
  createdAt: number;
  updatedAt: number;
  readyAt: number | null;
  expiresAt: number | null;
  reminderSent: boolean;
  endedAt: number | null;
  purgeAt: number | null;
  personalDataDeleted: boolean;
  /** new PINs asked for at the panel on `day` (local date) */
  resends?: { day: string; count: number };
}

/** A pickup as readers see it: the registry's row (no PIN hash: the auth actor alone holds those). */
export type PickupRow = Pickup;

/** A row saved before the auth actor existed: it still carries the PIN hash, until handed over. */
type LegacyPickup = Pickup & { pinHash?: string | null };

/** The type of the event carrying a pickup row's new view (see `PickupRowEvent`). */
export const PICKUP_ROW = 'pickup.row';

/**
 * Published after the commit of every change of a pickup's row: the row as committed (`row`), or
 * `null` when the row left the registry for the archive. Readers keep their projection of the
 * pickups (src/pickups-projection.ts) current from these alone. Internal to the box: it carries
 * personal data, so the box's public event stream leaves it out (unlike `pickup.changed`).
 */
export type PickupRowEvent = {
  readonly type: typeof PICKUP_ROW;
  readonly id: string;
  readonly row: PickupRow | null;
};

/** The event for a row's new view; a PIN hash a row saved before the auth actor still carries is left out. */
export function pickupRowEvent(id: string, pickup: Pickup | null): PickupRowEvent {
  if (pickup === null) return { type: PICKUP_ROW, id, row: null };
  const { pinHash: _secret, ...row } = pickup as LegacyPickup;
  return { type: PICKUP_ROW, id, row };
}

export interface RegistryCtx {
  seq: number;
  pickups: Record<string, Pickup>;
  byReference: Record<string, string>;
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

export interface RegistryPolicy {
  windowMs: number;
  reminderBeforeMs: number;
  /** how long personal data stays after the pickup ended (audit period) */
  purgeAfterMs: number;
  maxFailedAttempts: number;
  /** how long a passed PIN check holds a pickup for its session */
  claimMs: number;
  /** new PINs a citizen may ask for at the panel, per pickup and local day */
  pinResendsPerDay?: number;
  timeZone: string;
  /** text for SMS: where the box is, and when it is open */
  location: string;
  hoursText: string;
}

/** Keyed hashing supplied by the composition root; deterministic, so handlers stay pure. */
export interface RegistryCrypto {
  pinHash(pin: string, pickupId: string, serial: number): string;
  numberKey(phone: string): string;
  equal(a: string, b: string): boolean;
  generatePin(): string;
}


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

/** Everything the registry takes, as a runtime schema. Commands are requests: they are always answered. */
/** How a claim is given back (the registry's I/O), as a timer of an earlier version still names it. */
const releaseOpSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('releaseCompartment'), compartmentId: z.string(), owner: z.string() }),
  z.object({ kind: z.literal('releasePin'), key: z.string(), owner: z.string() }),
]);

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
  z.object({ type: z.literal('pin.missed'), kioskId: z.string(), pickups: z.array(z.object({ pickupId: z.string(), serial: z.number() })) }),
  z.object({ type: z.literal('pin.resendFor'), kioskId: z.string(), pickupIds: z.array(z.string()) }),
  z.object({ type: z.literal('auth.started') }),
  /** restarted by the supervisor after a crash, or revived by staff after it failed for good */
  z.object({ type: z.literal('restarted'), code: errorCode.optional() }),
  /** the auth actor is back after a crash, or revived after it failed for good: it hears which PINs are live (`credential.expect`) */
  z.object({ type: z.literal('auth.restarted') }),
  /** the SMS outbox is back after a crash, or revived after it failed for good: it hears which PIN messages are not confirmed (`sms.expect`) */
  z.object({ type: z.literal('outbox.restarted') }),
  /** PIN messages the outbox never got (refused while it was failed): their pickups get a new PIN */
  z.object({ type: z.literal('sms.missing'), ids: z.array(z.string()) }),
  /** PINs the auth actor never got (refused while it was failed): their pickups get a new one */
  z.object({ type: z.literal('credential.missing'), pickups: z.array(z.object({ pickupId: z.string(), serial: z.number() })) }),
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
  z.object({ type: z.literal('session.ended'), sessionId: z.string() }),
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
  /**
   * A message of the registry reached an actor that failed for good, or whose handler crashed on it
   * (`crashed`), and took no effect (the supervisor sends it back): an `allocate` to the allocation
   * actor, or an `unlock` to a compartment. `message` is the one sent.
   */
  z.object({
    type: z.literal('delivery.failed'),
    to: z.string(),
    messageType: z.string(),
    crashed: z.boolean().optional(),
    message: z.object({ pickupId: z.string().nullable().optional(), opId: z.string().optional(), purpose: purposeSchema.optional() }).optional(),
  }),
  /** From the allocation actor, restarted (a crash) or revived while it was choosing this pickup's compartment: the load is over. */
  z.object({ type: z.literal('load.abandoned'), pickupId: z.string() }),
  z.object({ type: z.literal('recovered') }),
]);
export type RegistryEvent = z.infer<typeof RegistryMessage>;

export type RegistryIo =
  | { kind: 'issuePin'; pickupId: string; serial: number }
  /** a release of a claim in slots saved before the allocation actor existed (parked, named by an old timer, or freed in the first start after the upgrade, before the hand-over) */
  | { kind: 'releaseCompartment'; compartmentId: string; owner: string }
  /** one opening per PIN and authentication: the claim is kept once the door opened */
  | { kind: 'claimPin'; pickupId: string; opId: string; key: string; owner: string }
  | { kind: 'releasePin'; key: string; owner: string }
  /** an ended pickup, without personal data, leaves the registry for the archive */
  | { kind: 'archive'; pickup: Pickup };

/** Atomic claims in the shared store (see src/persistence): keyv alone has no compare-and-set. */
export interface RegistryClaims {
  claimOnce(key: string, owner: string): Promise<boolean>;
  release(key: string, owner: string): Promise<void>;
}

/** Where ended pickups go once their personal data is deleted, so the registry stays small. */
export interface PickupArchive {
  archive(pickup: Pickup): Promise<void>;
}

const ENDED: readonly PickupStatus[] = ['COLLECTED', 'RETURNED', 'CANCELLED'];

/** The outbox id of the SMS carrying a pickup's PIN of `serial`. */
const pinSmsId = (pickupId: string, serial: number) => `pin-${pickupId}-${serial}`;

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
  const pinKey = (p: Pickup) => `pin:${p.reference}:${p.pinSerial}`;
  type Enq = BoxEnqueue<RegistryCtx, RegistryIo>;
  /** The pickup's status lets its PIN open it (READY) or it is opening it right now (RELEASING). */
  const livePin = (p: Pickup) => p.status === 'READY' || p.status === 'RELEASING';
  /**
   * Where the auth actor has the pickup's PIN: `live` (READY: checked), `held` (RELEASING: kept,
   * but no guess is compared with it, as no PIN of a pickup being released was before the auth
   * actor), or `none` (no PIN made, or it died).
   */
  const pinState = (p: Pickup): 'live' | 'held' | 'none' => (p.pinIssued !== true ? 'none' : p.status === 'READY' ? 'live' : p.status === 'RELEASING' ? 'held' : 'none');
  /** A PIN made, and alive: the auth actor holds its hash. */
  const holdsPin = (p: Pickup) => pinState(p) !== 'none';
  /** The PIN of `serial` is the pickup's live one. */
  const pinMatches = (p: Pickup, serial: number) => holdsPin(p) && p.pinSerial === serial;
  /** The PIN of the current serial was made (a row saved before the auth actor tells it by its hash). */
  const issued = (p: Pickup) => p.pinIssued ?? Boolean((p as LegacyPickup).pinHash);

  const reply = (enq: Enq, e: Request, value: unknown) => enq.emit.send(answer(e, value));
  const fail = (enq: Enq, e: Request, code: ErrorCode, message: string) => enq.emit.send(refuse(e, code, message));
  const toSession = (enq: Enq, sessionId: string, message: SessionEvent) =>
    enq.emit.send({ to: sessionAddress(sessionId), message });
  /**
   * One row changes; the rest of the table is shared with the committed version (table.ts). Every
   * change of a row goes through here and is published as the row's new view (the readers'
   * projection), then, when it is one (`change`), as a public `pickup.changed`: whoever hears the
   * change reads the row it describes.
   */
  const put = (ctx: RegistryCtx, p: Pickup, now: number, enq: Enq, change?: string): RegistryCtx => {
    const row: Pickup = { ...p, updatedAt: now };
    const before = ctx.pickups[p.id];
    // A PIN dies with the pickup's READY (or its release), or when a new one replaces it: the auth
    // actor forgets its hash in the same commit. While the pickup is released, it is held aside.
    const was = before ? pinState(before) : 'none';
    const is = pinState(row);
    if (was !== 'none' && is === 'none') enq.emit.send({ to: AUTH, message: { type: 'credential.drop', pickupId: p.id } });
    else if (was === 'live' && is === 'held') enq.emit.send({ to: AUTH, message: { type: 'credential.hold', pickupId: p.id } });
    else if (was === 'held' && is === 'live') enq.emit.send({ to: AUTH, message: { type: 'credential.resume', pickupId: p.id } });
    const legacy = row as LegacyPickup;
    if (legacy.pinHash && (!livePin(row) || row.pinIssued === false)) legacy.pinHash = null;
    enq.emit.publish({ event: pickupRowEvent(row.id, row) });
    if (change !== undefined) enq.emit.publish({ event: { type: 'pickup.changed', change, reference: row.reference, status: row.status, compartmentId: row.compartmentId } });
    return { ...ctx, pickups: setRow(ctx.pickups, row.id, row) };
  };
  const byRef = (ctx: RegistryCtx, reference: string) => {
    const id = ctx.byReference[reference.trim()];
    return id ? ctx.pickups[id] : undefined;
  };
  /**
   * The compartment no longer holds the pickup's document (or never got it): the allocation actor
   * frees its slot and gives the claim in the shared store back (`owner` null: no claim to give).
   */
  /**
   * The slots a registry saved before the allocation actor existed, while they are not yet handed
   * over (null after: restored, the emptied table comes back as an empty one).
   */
  const legacySlots = (ctx: RegistryCtx): Record<string, Slot> | null => (rowCount(ctx.compartments) > 0 ? ctx.compartments! : null);
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
   * Staff or the integration acting on a pickup a citizen is collecting right now are refused
   * PICKUP_BUSY: cutting in would leave the citizen's session waiting for a door that never opens.
   * The release ends within the door window. True when the request was refused.
   */
  const refusedWhileReleasing = (enq: Enq, e: Request, p: Pickup): boolean => {
    if (p.status !== 'RELEASING') return false;
    fail(enq, e, 'PICKUP_BUSY', `a citizen is collecting pickup ${p.reference} right now: try again once the door is closed`);
    return true;
  };
  /** The pickup the session holds a live claim on: the one it names, or (unnamed) the one the claim index finds. */
  const claimed = (ctx: RegistryCtx, sessionId: string, now: number, pickupId?: string) => {
    const live = (p: Pickup | undefined) => p?.claim?.sessionId === sessionId && p.claim.until > now && p.status === 'READY';
    if (pickupId !== undefined) return live(ctx.pickups[pickupId]) ? ctx.pickups[pickupId] : undefined;
    return rowsWhere(ctx.pickups, BY_CLAIM, sessionId).find(live);
  };

  const endPickup = (ctx: RegistryCtx, p: Pickup, status: PickupStatus, now: number, enq: Enq): RegistryCtx => {
    const purgeAt = now + policy.purgeAfterMs;
    enq.emit.cancel({ key: `remind:${p.id}` });
    enq.emit.cancel({ key: `expire:${p.id}` });
    enq.emit.schedule({ key: `purge:${p.id}`, at: purgeAt, message: { type: 'pickup.purge', pickupId: p.id } });
    const ended: Pickup = { ...p, status, claim: null, opId: null, unlockSent: false, endedAt: now, purgeAt };
    return put(ctx, ended, now, enq, status.toLowerCase());
  };

  /** Counts a failed second factor or PIN against the pickup; the fifth locks it. */
  const countFailure = (ctx: RegistryCtx, p: Pickup, now: number, enq: Enq, what: string): [RegistryCtx, Pickup] => {
    const failedAttempts = p.failedAttempts + 1;
    const locked = failedAttempts >= policy.maxFailedAttempts;
    enq.emit.audit({ entry: { action: 'auth.failed', subject: p.reference, detail: { factor: what, attempt: failedAttempts } } });
    const next: Pickup = { ...p, failedAttempts, status: locked ? 'LOCKED' : p.status, claim: locked ? null : p.claim };
    if (locked) {
      enq.emit.audit({ entry: { action: 'pickup.locked', subject: p.reference, detail: { attempts: failedAttempts } } });
      enq.emit.send({ to: ALARMS, message: raise(`locked:${p.id}`, 'PICKUP_LOCKED', 'warning', p.reference, `Pickup ${p.reference} locked after ${failedAttempts} failed attempts: reissue a PIN after checking identity`) });
    }
    return [put(ctx, next, now, enq, locked ? 'locked' : undefined), next];
  };

  /** The second factor: compared with what was registered, counted when wrong, remembered on the claim when right. */
  const checkFactor = (
    ctx: RegistryCtx,
    sessionId: string,
    pickupId: string | undefined,
    factor: 'oldId' | 'birthDate',
    given: string | null,
    registered: (p: Pickup) => string | null,
    now: number,
    enq: Enq,
  ): RegistryCtx | undefined => {
    const p = claimed(ctx, sessionId, now, pickupId);
    if (!p) return void toSession(enq, sessionId, { type: 'auth.factorRejected', factor, locked: false, code: 'SESSION_NOT_FOUND' });
    const expected = registered(p);
    if (given !== null && expected !== null && crypto.equal(given, expected)) {
      enq.emit.audit({ entry: { action: factor === 'oldId' ? 'auth.oldIdAccepted' : 'auth.birthDateAccepted', subject: p.reference, detail: { session: sessionId } } });
      toSession(enq, sessionId, { type: 'auth.factorAccepted', factor, documentNumber: factor === 'oldId' ? given : null });
      return put(ctx, { ...p, claim: { ...p.claim!, factor } }, now, enq);
    }
    const [next, after] = countFailure(ctx, p, now, enq, factor);
    toSession(enq, sessionId, { type: 'auth.factorRejected', factor, locked: after.status === 'LOCKED', code: factor === 'oldId' ? 'OLD_ID_MISMATCH' : 'BIRTH_DATE_MISMATCH' });
    return next;
  };

  /**
   * The pickup of an unlock a compartment reports on: the one it names, or (a compartment of an
   * earlier version names none) the one the op index finds.
   */
  const ofUnlock = (ctx: RegistryCtx, m: { pickupId?: string | null; opId: string }): Pickup | undefined =>
    m.pickupId === undefined ? rowsWhere(ctx.pickups, BY_OP, m.opId)[0] : m.pickupId === null ? undefined : ctx.pickups[m.pickupId];

  /**
   * An unlock the compartment refused or could not take (failed, or crashed on it): nothing moved.
   * A citizen at the door is told it cannot open; the pickup goes back to where it was.
   */
  const unlockRefused = (ctx: RegistryCtx, p: Pickup, purpose: Purpose, compartmentId: string, now: number, enq: Enq): RegistryCtx => {
    if (purpose === 'collect' && p.claim) toSession(enq, p.claim.sessionId, { type: 'release.failed', code: 'DEVICE_UNAVAILABLE' });
    return unlockAborted(ctx, p, purpose, compartmentId, 'unlockFailed', now, enq);
  };

  /** Being loaded, waiting for the allocation actor to choose its compartment. */
  const awaitingCompartment = (p: Pickup | undefined): p is Pickup => p?.status === 'LOADING' && p.compartmentId === null;
  /** A load that got no compartment is over: the pickup is to be loaded again. */
  const loadOver = (ctx: RegistryCtx, p: Pickup, now: number, enq: Enq): RegistryCtx => put(ctx, { ...p, status: 'REGISTERED', loadRequest: null }, now, enq, 'loadAborted');

  /** An unlock that did not lead to an open door: the pickup goes back to where it was. */
  const unlockAborted = (ctx: RegistryCtx, p: Pickup, purpose: Purpose, compartmentId: string, change: string, now: number, enq: Enq): RegistryCtx => {
    if (purpose === 'collect') {
      // The door never opened: this authentication used nothing up, the same PIN may try again.
      if (p.claim) enq.emit.io({ op: { kind: 'releasePin', key: pinKey(p), owner: p.claim.sessionId } });
      // The window may have closed while the door was unlocking: expire now rather than never.
      if (p.expiresAt !== null && now >= p.expiresAt) enq.emit.schedule({ key: `expire:${p.id}`, at: now, message: { type: 'pickup.expire', pickupId: p.id } });
      // Back to READY only from the release: a pickup that expired meanwhile stays EXPIRED.
      const next: Pickup = p.status === 'RELEASING' ? readyAgain(p, enq) : { ...p, opId: null, unlockSent: false, claim: null };
      return put(ctx, next, now, enq, change);
    }
    if (purpose === 'load') {
      if (p.status === 'CANCELLED') {
        // Cancelled while staff were to load it, and the document never went in: it ends here,
        // and no retrieval is needed any more.
        enq.emit.send({ to: ALARMS, message: clear(`retrieve:${p.id}`) });
        return endPickup(free(ctx, enq, compartmentId, p.reference), { ...p, compartmentId: null, opId: null }, 'CANCELLED', now, enq);
      }
      const next: Pickup = { ...p, status: 'REGISTERED', opId: null, compartmentId: null };
      return put(free(ctx, enq, compartmentId, p.reference), next, now, enq, 'loadAborted');
    }
    return put(ctx, { ...p, opId: null }, now, enq);
  };

  /**
   * A release that did not happen: the pickup is READY again. A PIN whose hash went with a lost
   * auth actor's state meanwhile (see `auth.started`) is replaced, or the SMS PIN could never open it.
   */
  const readyAgain = (p: Pickup, enq: Enq): Pickup => {
    const back: Pickup = { ...p, status: 'READY', opId: null, unlockSent: false, claim: null };
    return issued(back) ? back : replacePin(back, 'pin.reissuedAfterAuthReset', enq);
  };

  /**
   * The PIN the citizen has can never open (its hash or its SMS was lost, or it was never made):
   * a new one goes out by SMS, audited as `action` (why it was replaced).
   */
  const replacePin = (p: Pickup, action: string, enq: Enq): Pickup => {
    enq.emit.audit({ entry: { action, subject: p.reference, detail: { serial: p.pinSerial + 1 } } });
    return newPin(p, enq);
  };

  /** A new PIN replaces the current one: the old one dies at once, the new one goes out by SMS. */
  const newPin = (p: Pickup, enq: Enq): Pickup => {
    const serial = p.pinSerial + 1;
    enq.emit.io({ op: { kind: 'issuePin', pickupId: p.id, serial } });
    return { ...p, pinIssued: false, pinSerial: serial, pinQueued: false };
  };

  const unlock = (enq: Enq, compartmentId: string, opId: string, purpose: Purpose, pickupId: string | null, cause: Cause) =>
    enq.emit.send({ to: compartmentAddress(compartmentId), message: { type: 'unlock', opId, purpose, pickupId, cause } });

  const reminderSms = (p: Pickup, phone: string): OutboxEvent => {
    const last = smsDate(p.expiresAt ?? 0);
    return {
      type: 'sms.enqueue',
      id: `remind-${p.id}`,
      to: phone,
      text: `Erinnerung: Ihr Dokument liegt noch in der Ausgabebox (${policy.location}), Abholung bis ${last}. ${policy.hoursText}. Reminder: please collect your document by ${last}.`,
    };
  };
  const expiredSms = (p: Pickup, phone: string): OutboxEvent => ({
    type: 'sms.enqueue',
    id: `expired-${p.id}`,
    to: phone,
    text: `Die Abholfrist ist abgelaufen. Ihr Dokument geht zurück an den Schalter im Bürgerbüro (${policy.location}). The pickup period is over; your document goes back to the counter.`,
  });

  /** The pickup's reminder or expiry notice, sent again under its id: the outbox drops ids it holds or delivered already. */
  const noticesAgain = (p: Pickup, enq: Enq) => {
    if (p.status === 'READY' && p.reminderSent && p.phone) enq.emit.send({ to: OUTBOX, message: reminderSms(p, p.phone) });
    if (p.status === 'EXPIRED' && p.phone) enq.emit.send({ to: OUTBOX, message: expiredSms(p, p.phone) });
  };

  const smsDate = (at: number) => {
    const [y, m, d] = localDate(at, policy.timeZone).split('-');
    return `${d}.${m}.${y}`;
  };

  /**
   * What a registry saved before the auth actor existed holds of PINs and throttles goes to the auth
   * actor, once. `lostAuth`: the auth actor is new (its state lost or reset), so a PIN handed to an
   * earlier one is replaced; false after a crash of the registry itself, which hands over only what
   * is left.
   */
  const handOver = (ctx: RegistryCtx, now: number, enq: Enq, lostAuth: boolean): RegistryCtx | undefined => {
    const credentials: Array<{ pickupId: string; numberKey: string; serial: number; pinHash: string }> = [];
    let next = ctx;
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
        next = { ...next, pickups: setRow(next.pickups, p.id, handed) };
        // The box's readers see the row as it is now (the projection compares whole rows).
        enq.emit.publish({ event: pickupRowEvent(p.id, handed) });
      } else if (!lostAuth) {
        continue;
      } else if (p.status === 'RELEASING' && holdsPin(p)) {
        // Its hash went with the lost state; its door is unlocking: should it not open, the
        // pickup gets a new PIN then (readyAgain).
        next = put(next, { ...p, pinIssued: false }, now, enq);
      } else if (holdsPin(p)) {
        next = put(next, replacePin(p, 'pin.reissuedAfterAuthReset', enq), now, enq, 'pinReissued');
      }
    }
    if (legacy) {
      enq.emit.send({ to: AUTH, message: { type: 'auth.adopt', credentials, numberThrottles: { ...ctx.numberThrottles }, kioskThrottles: { ...ctx.kioskThrottles } } });
      enq.emit.audit({ entry: { action: 'auth.handedOver', detail: { credentials: credentials.length } } });
      const { numberThrottles: _n, kioskThrottles: _k, byNumber: _b, ...rest } = next;
      next = rest;
    }
    return next === ctx ? undefined : next;
  };

  /**
   * The pickup a message concerns, so that a pickup whose handling keeps crashing the registry
   * (a damaged row, a bug one pickup's data hits) fails alone: its crashes count against it, and
   * past the restart intensity it is quarantined (PICKUP_FAILED) while every other pickup is
   * served (see ActorBehavior.partitionOf). Messages that concern no single pickup give null and
   * crash the registry as before, counting against it: the auth actor's outcomes of PIN checks
   * (`pin.matched` and `door.matched` answer for a quarantined pickup themselves; `pin.missed` and
   * `pin.resendFor` name several pickups), registrations of a new reference, compartment and
   * device reports, claims given back, `recovered` (every pickup at once).
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
      case 'compartment.report':
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
        return ofSession(m.sessionId);
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
    tables: ['pickups', 'byReference', 'compartments', 'numberThrottles', 'kioskThrottles', 'byNumber'],
    init: () => ({
      seq: 0,
      pickups: {},
      byReference: {},
    }),
    on: {
      'pickup.register': (ctx, e, enq) => {
        let valid: Pick<Pickup, 'reference' | 'documentKind' | 'phone' | 'birthDate' | 'oldDocumentNumber' | 'accessible' | 'documents'>;
        try {
          valid = validateRegistration(e.input, e.now, policy.timeZone);
        } catch (error) {
          if (error instanceof DomainError) return void fail(enq, e, error.code, error.message);
          throw error;
        }
        if (ctx.byReference[valid.reference]) return void fail(enq, e, 'PICKUP_EXISTS', `a pickup with reference ${valid.reference} exists`);
        const id = `P${ctx.seq + 1}`;
        const p: Pickup = {
          id,
          ...valid,
          status: 'REGISTERED',
          pinSerial: 0,
          pinIssued: false,
          pinQueued: false,
          compartmentId: null,
          failedAttempts: 0,
          claim: null,
          opId: null,
          createdAt: e.now,
          updatedAt: e.now,
          readyAt: null,
          expiresAt: null,
          reminderSent: false,
          endedAt: null,
          purgeAt: null,
          personalDataDeleted: false,
        };
        enq.emit.audit({ entry: { action: 'pickup.registered', subject: p.reference, detail: { kind: p.documentKind } } });
        reply(enq, e, { id, reference: p.reference, status: p.status });
        return { ...put(ctx, p, e.now, enq, 'registered'), seq: ctx.seq + 1, byReference: setRow(ctx.byReference, p.reference, id) };
      },

      'pickup.cancel': (ctx, e, enq) => {
        const p = byRef(ctx, e.reference);
        if (!p) return void fail(enq, e, 'PICKUP_NOT_FOUND', `no pickup ${e.reference}`);
        if (refusedWhileReleasing(enq, e, p)) return;
        // Every state that is not final has this way out (staff, audited).
        if (p.endedAt !== null || p.status === 'CANCELLED') {
          return void fail(enq, e, 'PICKUP_WRONG_STATE', `pickup ${p.reference} is ${p.status} and cannot be cancelled`);
        }
        enq.emit.audit({ entry: { action: 'pickup.cancelled', actor: e.by, subject: p.reference } });
        if (p.compartmentId) {
          // The document is still in the box: staff must take it out (retrieve) before it ends.
          enq.emit.send({ to: ALARMS, message: raise(`retrieve:${p.id}`, 'RETRIEVAL_NEEDED', 'info', p.compartmentId, `Cancelled pickup ${p.reference} lies in ${p.compartmentId}: take it out`) });
          enq.emit.cancel({ key: `remind:${p.id}` });
          enq.emit.cancel({ key: `expire:${p.id}` });
          const next: Pickup = { ...p, status: 'CANCELLED', claim: null };
          reply(enq, e, { reference: p.reference, status: next.status, compartmentId: p.compartmentId });
          return put(ctx, next, e.now, enq, 'cancelled');
        }
        reply(enq, e, { reference: p.reference, status: 'CANCELLED', compartmentId: null });
        return endPickup(ctx, p, 'CANCELLED', e.now, enq);
      },

      'pickup.load': (ctx, e, enq) => {
        const p = byRef(ctx, e.reference);
        if (!p) return void fail(enq, e, 'PICKUP_NOT_FOUND', `no pickup ${e.reference}`);
        if (p.status !== 'REGISTERED') return void fail(enq, e, 'PICKUP_WRONG_STATE', `pickup ${p.reference} is ${p.status}, not REGISTERED`);
        // The allocation actor chooses and wins the compartment (in the shared store: boxes of a
        // fleet never assign one twice), and tells which in `compartment.claimed`: the staff
        // member's request is answered then.
        const request = { requestId: e.requestId, replyTo: e.replyTo, by: e.by };
        enq.emit.send({ to: ALLOCATION, message: { type: 'allocate', pickupId: p.id, owner: p.reference, documents: p.documents, accessible: p.accessible, request } });
        return put(ctx, { ...p, status: 'LOADING', compartmentId: null, opId: null, loadRequest: e.requestId }, e.now, enq);
      },

      'compartment.claimed': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        // (A load asked before a restart and answered after it, when staff asked again meanwhile:
        // the pickup is loading for the new request, and the old one's compartment goes back.)
        const stale = p?.loadRequest != null && p.loadRequest !== e.requestId;
        if (!p || p.status !== 'LOADING' || p.compartmentId !== null || stale) {
          // The pickup moved on while its compartment was being won (cancelled meanwhile): the
          // staff member loading it gets an answer, and the compartment's claim goes back.
          fail(enq, e, 'PICKUP_WRONG_STATE', `pickup ${p?.reference ?? e.pickupId} is ${p?.status ?? 'gone'} and is not loaded`);
          // Never the compartment the pickup is in: a load asked before a restart and answered
          // after the pickup was loaded over can name it again (claims are per owner).
          if (e.compartmentId && p && e.compartmentId !== p.compartmentId) return free(ctx, enq, e.compartmentId, p.reference);
          return;
        }
        if (!e.compartmentId && e.failed) {
          fail(enq, e, e.failed, 'storage is unavailable: no compartment was assigned; retry once the box reports healthy');
          return put(ctx, { ...p, status: 'REGISTERED', loadRequest: null }, e.now, enq);
        }
        if (!e.compartmentId) {
          fail(enq, e, 'NO_FITTING_COMPARTMENT', `no free ${p.accessible ? 'accessible ' : ''}compartment fits pickup ${p.reference}`);
          return put(ctx, { ...p, status: 'REGISTERED', loadRequest: null }, e.now, enq);
        }
        const compartmentId = e.compartmentId;
        const opId = `op-${ctx.seq + 1}`;
        enq.emit.audit({ entry: { action: 'pickup.loading', actor: e.by, subject: p.reference, detail: { compartment: compartmentId } } });
        unlock(enq, compartmentId, opId, 'load', p.id, { kind: 'staff', staffId: e.by });
        const next: Pickup = { ...p, status: 'LOADING', compartmentId, opId, loadRequest: null };
        reply(enq, e, { reference: p.reference, status: next.status, compartmentId });
        return { ...put(ctx, next, e.now, enq, 'loading'), seq: ctx.seq + 1 };
      },

      'pickup.retrieve': (ctx, e, enq) => {
        const p = byRef(ctx, e.reference);
        if (!p) return void fail(enq, e, 'PICKUP_NOT_FOUND', `no pickup ${e.reference}`);
        if (refusedWhileReleasing(enq, e, p)) return;
        if (!p.compartmentId || p.endedAt !== null) {
          return void fail(enq, e, 'PICKUP_WRONG_STATE', `pickup ${p.reference} is ${p.status} and not in a compartment`);
        }
        // One unlock per pickup at a time: a retrieval never takes over an opening under way (it would
        // replace the operation whose opening the registry waits for, which then goes unrecorded).
        if (p.opId !== null) return void fail(enq, e, 'COMPARTMENT_BUSY', `compartment ${p.compartmentId} of pickup ${p.reference} is being unlocked already (${p.status}): try again once that is over`);
        const opId = `op-${ctx.seq + 1}`;
        enq.emit.audit({ entry: { action: 'pickup.retrieving', actor: e.by, subject: p.reference, detail: { compartment: p.compartmentId } } });
        unlock(enq, p.compartmentId, opId, 'retrieve', p.id, { kind: 'staff', staffId: e.by });
        reply(enq, e, { reference: p.reference, status: p.status, compartmentId: p.compartmentId });
        return { ...put(ctx, { ...p, opId, claim: null }, e.now, enq), seq: ctx.seq + 1 };
      },

      'pickup.reissuePin': (ctx, e, enq) => {
        const p = byRef(ctx, e.reference);
        if (!p) return void fail(enq, e, 'PICKUP_NOT_FOUND', `no pickup ${e.reference}`);
        if (p.status !== 'READY' && p.status !== 'LOCKED') return void fail(enq, e, 'PICKUP_WRONG_STATE', `pickup ${p.reference} is ${p.status}`);
        enq.emit.audit({ entry: { action: 'pin.reissued', actor: e.by, subject: p.reference } });
        const next: Pickup = { ...newPin(p, enq), status: 'READY', failedAttempts: 0, claim: null };
        reply(enq, e, { reference: p.reference, status: next.status });
        return put(ctx, next, e.now, enq, 'pinReissued');
      },


      /**
       * "I have not received an SMS", after the auth actor counted the request on its throttles and
       * answered the panel: every READY pickup of the number within its daily budget gets a new PIN.
       */
      'pin.resendFor': (ctx, e, enq) => {
        const day = localDate(e.now, policy.timeZone);
        const budget = policy.pinResendsPerDay ?? 2;
        let next = ctx;
        for (const id of e.pickupIds) {
          const p = ctx.pickups[id];
          // A pickup mid-collection at another panel keeps its PIN: that session is past it. A
          // quarantined one gets none (its handling is what crashes).
          if (!p || p.status !== 'READY' || (p.claim && p.claim.until > e.now) || e.quarantined?.has(p.id)) continue;
          const count = p.resends?.day === day ? p.resends.count : 0;
          if (count >= budget) {
            enq.emit.audit({ entry: { action: 'pin.resendRefused', actor: e.kioskId, subject: p.reference, detail: { reason: 'budget', perDay: budget } } });
            continue;
          }
          enq.emit.audit({ entry: { action: 'pin.resent', actor: e.kioskId, subject: p.reference, detail: { serial: p.pinSerial + 1, today: count + 1 } } });
          const renewed: Pickup = { ...newPin(p, enq), resends: { day, count: count + 1 } };
          next = put(next, renewed, e.now, enq, 'pinResent');
        }
        return next === ctx ? undefined : next;
      },

      'pin.generated': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        // A PIN for an older serial (reissued meanwhile) or an ended pickup is dropped unsent.
        if (!p || p.pinSerial !== e.serial || p.status !== 'READY' || !p.phone) return;
        const last = smsDate(p.expiresAt ?? e.now);
        enq.emit.send({
          to: OUTBOX,
          message: {
            type: 'sms.enqueue',
            id: pinSmsId(p.id, e.serial),
            ack: { to: REGISTRY, message: { type: 'pin.queued', pickupId: p.id, serial: e.serial } },
            to: p.phone,
            text:
              `Ihr Dokument liegt in der Ausgabebox (${policy.location}). PIN: ${e.pin}. Abholung bis ${last}. ${policy.hoursText}. ` +
              `Your document is ready at the pickup box; PIN ${e.pin}; collect by ${last}.`,
          },
        });
        enq.emit.audit({ entry: { action: 'pin.issued', subject: p.reference, detail: { serial: e.serial } } });
        // The hash goes to the auth actor, which alone checks PINs; this row only knows one was made.
        enq.emit.send({ to: AUTH, message: { type: 'credential.set', pickupId: p.id, numberKey: crypto.numberKey(p.phone), serial: e.serial, pinHash: e.pinHash } });
        return put(ctx, { ...p, pinIssued: true, pinQueued: false }, e.now, enq);
      },

      'pin.queued': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        if (!p || p.pinSerial !== e.serial || p.pinQueued) return;
        return put(ctx, { ...p, pinQueued: true }, e.now, enq);
      },

      /**
       * The auth actor found the PIN typed at a panel to be this pickup's: the session claims it,
       * unless the PIN died meanwhile (reissued, locked, ended: as a wrong PIN, but not counted),
       * another session holds it, or an unlock of it is under way.
       */
      'pin.matched': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        if (!p || !pinMatches(p, e.serial)) return void toSession(enq, e.sessionId, { type: 'auth.rejected', retryAt: null });
        // Quarantined (its handling kept crashing the registry): the box cannot hand it out, staff
        // do at the counter, and the panel says so at once rather than "try again".
        if (e.quarantined?.has(p.id)) return void toSession(enq, e.sessionId, { type: 'auth.busy', code: 'PICKUP_FAILED' });
        // Another session holds it, or an unlock is under way (a citizen at its door, staff taking
        // it out): the PIN opens nothing now, and the panel says so at once.
        if ((p.claim && p.claim.until > e.now && p.claim.sessionId !== e.sessionId) || p.opId !== null || p.status !== 'READY') {
          return void toSession(enq, e.sessionId, { type: 'auth.busy' });
        }
        enq.emit.audit({ entry: { action: 'auth.pinAccepted', actor: e.kioskId, subject: p.reference, detail: { session: e.sessionId } } });
        toSession(enq, e.sessionId, {
          type: 'auth.pinAccepted',
          documentKind: p.documentKind,
          // Whether the card reader can take the old ID now is the reader's to say (the session asks it).
          oldIdRegistered: p.oldDocumentNumber !== null,
          pickupId: p.id,
        });
        return put(ctx, { ...p, claim: { sessionId: e.sessionId, until: e.now + policy.claimMs, factor: null } }, e.now, enq);
      },

      /**
       * The auth actor found the PIN typed at the after-hours room's outside panel to be this
       * pickup's: the room door opens. Nothing is claimed, and the PIN stays valid for the pickup inside.
       */
      'door.matched': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        // READY only: a pickup being released opens no room door (its PIN is held aside meanwhile).
        if (!p || !pinMatches(p, e.serial) || p.status !== 'READY') return void enq.emit.send(refuse(e, 'AUTH_FAILED', 'Number and PIN do not match a pickup in the box', { retryAt: null }));
        if (e.quarantined?.has(p.id)) {
          return void enq.emit.send(refuse(e, 'PICKUP_FAILED', 'This pickup cannot be collected at the box: please ask at the counter'));
        }
        enq.emit.audit({ entry: { action: 'auth.doorPinAccepted', actor: e.kioskId, subject: p.reference } });
        enq.emit.send({ to: ROOM_DOOR, message: { type: 'grant', kioskId: e.kioskId, reference: p.reference } });
        enq.emit.send(answer(e, { opened: true }));
      },

      /** A wrong PIN on a number with live pickups: counted on each that is READY with that PIN still, toward its lock. */
      'pin.missed': (ctx, e, enq) => {
        let next = ctx;
        for (const { pickupId, serial } of e.pickups) {
          const p = next.pickups[pickupId];
          if (p && p.status === 'READY' && pinMatches(p, serial)) next = countFailure(next, p, e.now, enq, 'pin')[0];
        }
        if (next === ctx) enq.emit.audit({ entry: { action: 'auth.failed', actor: e.kioskId, detail: { factor: 'pin' } } });
        return next === ctx ? undefined : next;
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
      'auth.started': (ctx, e, enq) => handOver(ctx, e.now, enq, true),

      /**
       * Restarted after a crash: a hand-over to the auth actor that the crash cut short is done
       * now (`auth.started` does not come again). Nothing else: the auth actor's state was not lost.
       */
      restarted: (ctx, e, enq) => handOver(ctx, e.now, enq, false),

      /**
       * The outbox is back after a crash or a revival: it hears which PIN messages the registry has
       * not heard confirmed, and names those it never got. (Reminders and expiry notices can be
       * written again word for word: they are simply sent again, and the outbox drops the ones it
       * holds or delivered.)
       */
      'outbox.restarted': (ctx, _e, enq) => {
        const ids: string[] = [];
        for (const p of Object.values(ctx.pickups)) {
          if (p.status === 'READY' && p.pinIssued === true && !p.pinQueued) ids.push(pinSmsId(p.id, p.pinSerial));
          noticesAgain(p, enq);
        }
        if (ids.length > 0) enq.emit.send({ to: OUTBOX, message: { type: 'sms.expect', ids } });
      },

      /**
       * PIN messages the outbox never got: refused while it was failed, the citizen has no PIN. The
       * PIN itself is never kept, so the pickup gets a new one by SMS (audited), if it is still the
       * one that went missing.
       */
      'sms.missing': (ctx, e, enq) => {
        const missing = new Set(e.ids);
        let next = ctx;
        for (const p of Object.values(ctx.pickups)) {
          if (p.status !== 'READY' || p.pinQueued || !missing.has(pinSmsId(p.id, p.pinSerial))) continue;
          next = put(next, replacePin(p, 'pin.reissuedAfterOutboxFailure', enq), e.now, enq, 'pinReissued');
        }
        return next === ctx ? undefined : next;
      },

      /**
       * The auth actor is back after a crash or a revival: it hears which PINs are live, and drops
       * what it holds beyond them. (Sent after every `credential.*` before it, in order.)
       */
      'auth.restarted': (ctx, _e, enq) => {
        const credentials: Array<{ pickupId: string; serial: number; held: boolean }> = [];
        for (const p of Object.values(ctx.pickups)) {
          const state = pinState(p);
          if (state !== 'none') credentials.push({ pickupId: p.id, serial: p.pinSerial, held: state === 'held' });
        }
        enq.emit.send({ to: AUTH, message: { type: 'credential.expect', credentials } });
      },

      /**
       * PINs the auth actor never got: refused while it was failed, they can never open, though
       * their SMS went out. A READY pickup gets a new PIN by SMS; one being released gets it
       * should its door not open (readyAgain). A PIN replaced or dead meanwhile needs nothing.
       */
      'credential.missing': (ctx, e, enq) => {
        let next = ctx;
        for (const { pickupId, serial } of e.pickups) {
          const p = next.pickups[pickupId];
          if (!p || p.pinSerial !== serial || pinState(p) === 'none') continue;
          if (p.status === 'RELEASING') {
            next = put(next, { ...p, pinIssued: false }, e.now, enq);
            continue;
          }
          next = put(next, replacePin(p, 'pin.reissuedAfterAuthFailure', enq), e.now, enq, 'pinReissued');
        }
        return next === ctx ? undefined : next;
      },

      /**
       * The allocation actor started, or restarted, was revived or recovered: it learns which
       * compartments hold a pickup, and which pickups wait for one (their slots, won meanwhile, are
       * kept); what it has otherwise is mended. A registry saved before it existed hands over its
       * own slot table, which then leaves the registry's state; otherwise (its state was lost or
       * reset, or a `free` was refused while it was failed) the compartments live pickups name are
       * given to them again, and the others are free.
       */
      'allocation.started': (ctx, _e, enq) => {
        const slots: Record<string, Partial<Slot>> = {};
        const awaiting: string[] = [];
        for (const [id, c] of Object.entries(ctx.compartments ?? {})) slots[id] = c;
        for (const p of Object.values(ctx.pickups)) {
          if (p.compartmentId && p.endedAt === null) slots[p.compartmentId] = { ...slots[p.compartmentId], pickupId: slots[p.compartmentId]?.pickupId ?? p.id };
          if (awaitingCompartment(p)) awaiting.push(p.id);
        }
        // A saved slot holding a pickup no live pickup puts there was reserved by the compartment's
        // report: handed over as such, or the next adoption would free it (see allocation's mend).
        for (const [id, c] of Object.entries(ctx.compartments ?? {})) {
          if (c.pickupId !== null && ctx.pickups[c.pickupId]?.compartmentId !== id) slots[id] = { ...slots[id], reported: true };
        }
        enq.emit.send({ to: ALLOCATION, message: { type: 'allocation.adopt', slots, awaiting } });
        if (ctx.compartments === undefined) return;
        const { compartments: _c, ...rest } = ctx;
        return rest;
      },

      'auth.oldDocument': (ctx, e, enq) => {
        let given: string | null;
        try {
          given = validateDocumentNumber(e.documentNumber);
        } catch {
          given = null;
        }
        return checkFactor(ctx, e.sessionId, e.pickupId, 'oldId', given, (p) => p.oldDocumentNumber, e.now, enq);
      },

      'auth.birthDate': (ctx, e, enq) => checkFactor(ctx, e.sessionId, e.pickupId, 'birthDate', e.birthDate, (p) => p.birthDate, e.now, enq),

      'pickup.release': (ctx, e, enq) => {
        const p = claimed(ctx, e.sessionId, e.now, e.pickupId);
        if (!p || !p.claim?.factor || !p.compartmentId) {
          return void toSession(enq, e.sessionId, { type: 'release.failed', code: 'AUTH_FAILED' });
        }
        // An unlock of this pickup is under way (staff retrieving it): never overwrite its op.
        if (p.opId !== null) return void toSession(enq, e.sessionId, { type: 'release.failed', code: 'PICKUP_BUSY' });
        const opId = `op-${ctx.seq + 1}`;
        // Single use of the PIN, atomic in the shared store, before anything moves.
        enq.emit.io({ op: { kind: 'claimPin', pickupId: p.id, opId, key: pinKey(p), owner: e.sessionId } });
        const next: Pickup = { ...p, status: 'RELEASING', opId };
        return { ...put(ctx, next, e.now, enq, 'releasing'), seq: ctx.seq + 1 };
      },

      'pin.claimed': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        if (!p || p.status !== 'RELEASING' || p.opId !== e.opId || !p.claim || !p.compartmentId) return;
        if (!e.ok && e.failed) {
          // The store could not be asked: nothing moved; the PIN still works once storage is back.
          toSession(enq, p.claim.sessionId, { type: 'release.failed', code: e.failed });
          return put(ctx, readyAgain(p, enq), e.now, enq);
        }
        if (!e.ok) {
          enq.emit.audit({ entry: { action: 'pin.reuseRefused', subject: p.reference, detail: { session: p.claim.sessionId } } });
          toSession(enq, p.claim.sessionId, { type: 'release.failed', code: 'AUTH_FAILED' });
          return put(ctx, readyAgain(p, enq), e.now, enq);
        }
        unlock(enq, p.compartmentId, e.opId, 'collect', p.id, { kind: 'session', sessionId: p.claim.sessionId, pickupId: p.id });
        toSession(enq, p.claim.sessionId, { type: 'release.started', compartmentId: p.compartmentId });
        return put(ctx, { ...p, unlockSent: true }, e.now, enq);
      },

      'claim.release': (_ctx, e, enq) => {
        enq.emit.io({ op: e.op });
      },

      'compartment.released': (_ctx, e, enq) => void enq.emit.send({ to: ALLOCATION, message: { type: 'compartment.released', compartmentId: e.compartmentId, owner: e.owner } }),

      'session.ended': (ctx, e, enq) => {
        const held = rowsWhere(ctx.pickups, BY_CLAIM, e.sessionId).filter((p) => p.status === 'READY');
        let next = ctx;
        for (const p of held) next = put(next, { ...p, claim: null }, e.now, enq);
        return held.length ? next : undefined;
      },

      'compartment.opened': (ctx, e, enq) => {
        const p = e.pickupId ? ctx.pickups[e.pickupId] : undefined;
        if (!p || p.opId !== e.opId) return;
        if (e.purpose === 'collect') {
          enq.emit.audit({ entry: { action: 'pickup.collected', subject: p.reference, detail: { compartment: e.compartmentId } } });
          if (p.claim) toSession(enq, p.claim.sessionId, { type: 'pickup.doorOpened', compartmentId: e.compartmentId });
          return endPickup(ctx, { ...p, compartmentId: null }, 'COLLECTED', e.now, enq);
        }
        if (e.purpose === 'retrieve') {
          enq.emit.audit({ entry: { action: 'pickup.returned', subject: p.reference, detail: { compartment: e.compartmentId } } });
          // The staff task is done: the expiry / cancellation alarm ends with it.
          enq.emit.send({ to: ALARMS, message: clear(`retrieve:${p.id}`) });
          const status: PickupStatus = p.status === 'CANCELLED' ? 'CANCELLED' : 'RETURNED';
          return endPickup(ctx, { ...p, compartmentId: null }, status, e.now, enq);
        }
      },

      'compartment.closed': (ctx, e, enq) => {
        if (e.purpose === 'load') {
          const p = e.pickupId ? ctx.pickups[e.pickupId] : undefined;
          if (!p || p.opId !== e.opId || p.status !== 'LOADING') return;
          // Door shut on the document: it is ready, and the PIN goes out.
          const expiresAt = e.now + policy.windowMs;
          const serial = p.pinSerial + 1;
          enq.emit.io({ op: { kind: 'issuePin', pickupId: p.id, serial } });
          enq.emit.schedule({ key: `remind:${p.id}`, at: expiresAt - policy.reminderBeforeMs, message: { type: 'pickup.remind', pickupId: p.id } });
          enq.emit.schedule({ key: `expire:${p.id}`, at: expiresAt, message: { type: 'pickup.expire', pickupId: p.id } });
          enq.emit.audit({ entry: { action: 'pickup.ready', subject: p.reference, detail: { compartment: e.compartmentId } } });
          const next: Pickup = { ...p, status: 'READY', opId: null, readyAt: e.now, expiresAt, pinSerial: serial };
          return put(ctx, next, e.now, enq, 'ready');
        }
        if (e.purpose === 'service') return;
        // Collected or retrieved: the compartment is free again, unless a live pickup still names it
        // (its opening was never seen): then it may hold a document, and staff must look.
        const holder = rowsWhere(ctx.pickups, IN_COMPARTMENT, e.compartmentId)[0];
        if (holder) {
          enq.emit.send({ to: ALARMS, message: raise(`occupancy:${e.compartmentId}`, 'OCCUPANCY_MISMATCH', 'critical', e.compartmentId, `Compartment ${e.compartmentId} closed after an opening, but pickup ${holder.reference} is still recorded in it: check the compartment, then retrieve or cancel the pickup`) });
          enq.emit.audit({ entry: { action: 'occupancy.mismatch', subject: e.compartmentId, detail: { pickup: holder.reference, op: e.opId } } });
          return;
        }
        const owner = e.pickupId ? ctx.pickups[e.pickupId]?.reference : undefined;
        return free(ctx, enq, e.compartmentId, owner ?? null);
      },

      'compartment.notOpened': (ctx, e, enq) => {
        const p = e.pickupId ? ctx.pickups[e.pickupId] : undefined;
        if (!p || p.opId !== e.opId) return;
        // The latch re-engaged; the document is still there and the pickup stays READY.
        if (e.purpose === 'collect' && p.claim) toSession(enq, p.claim.sessionId, { type: 'pickup.doorNotOpened' });
        return unlockAborted(ctx, p, e.purpose, e.compartmentId, 'doorNotOpened', e.now, enq);
      },

      'compartment.unlockFailed': (ctx, e, enq) => {
        const p = ofUnlock(ctx, e);
        if (!p || p.opId !== e.opId) return;
        return unlockRefused(ctx, p, e.purpose, e.compartmentId, e.now, enq);
      },

      // The allocation actor restarted while choosing the compartment (its claims given back): staff load again.
      'load.abandoned': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        if (!awaitingCompartment(p)) return;
        // The staff member waiting for the compartment is answered now, not when their ask times out.
        if (p.loadRequest) fail(enq, { requestId: p.loadRequest, replyTo: REPLIES }, 'ACTOR_CRASHED', `choosing a compartment for pickup ${p.reference} failed; load it again`);
        return loadOver(ctx, p, e.now, enq);
      },

      // The allocation actor or the compartment failed for good, or crashed on it, and took nothing: as if refused.
      'delivery.failed': (ctx, e, enq) => {
        const p = e.message?.pickupId ? ctx.pickups[e.message.pickupId] : undefined;
        if (!p) return;
        if (e.messageType === 'allocate') {
          // The staff member's load was refused ACTOR_FAILED (its ask followed the message): the
          // pickup is to be loaded again once the allocation actor is revived.
          return awaitingCompartment(p) ? loadOver(ctx, p, e.now, enq) : undefined;
        }
        if (e.messageType === 'unlock' && e.message?.opId && e.message.purpose && p.opId === e.message.opId && p.compartmentId) {
          // The door cannot open: like a refused unlock, nothing is used up (the PIN works again
          // once the compartment is revived). A staff member's retrieval was refused ACTOR_FAILED.
          return unlockRefused(ctx, p, e.message.purpose, p.compartmentId, e.now, enq);
        }
      },

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

      'pickup.remind': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        if (!p || p.status !== 'READY' || p.reminderSent || !p.phone) return;
        enq.emit.send({ to: OUTBOX, message: reminderSms(p, p.phone) });
        enq.emit.audit({ entry: { action: 'pickup.reminded', subject: p.reference } });
        return put(ctx, { ...p, reminderSent: true }, e.now, enq);
      },

      'pickup.expire': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        if (!p || (p.status !== 'READY' && p.status !== 'LOCKED' && p.status !== 'RELEASING')) return;
        // A citizen at the door right now keeps the claim's few minutes; a stale release does not.
        if (p.status === 'RELEASING' && p.claim && p.claim.until > e.now) {
          enq.emit.schedule({ key: `expire:${p.id}`, at: p.claim.until, message: { type: 'pickup.expire', pickupId: p.id } });
          return;
        }
        enq.emit.audit({ entry: { action: 'pickup.expired', subject: p.reference } });
        enq.emit.send({ to: ALARMS, message: raise(`retrieve:${p.id}`, 'PICKUP_EXPIRED', 'info', p.compartmentId ?? p.reference, `Pickup ${p.reference} expired: take it out of ${p.compartmentId} and back to the counter`) });
        if (p.phone) enq.emit.send({ to: OUTBOX, message: expiredSms(p, p.phone) });
        const next: Pickup = { ...p, status: 'EXPIRED', claim: null };
        return put(ctx, next, e.now, enq, 'expired');
      },

      'pickup.purge': (ctx, e, enq) => {
        const p = ctx.pickups[e.pickupId];
        if (!p || !ENDED.includes(p.status) || p.personalDataDeleted) return;
        enq.emit.audit({ entry: { action: 'pickup.personalDataDeleted', subject: p.reference } });
        const purged: Pickup = { ...p, phone: null, birthDate: null, oldDocumentNumber: null, personalDataDeleted: true };
        // Written to the archive first; only then does it leave the registry (pickup.archived).
        enq.emit.io({ op: { kind: 'archive', pickup: { ...purged, updatedAt: e.now } } });
        return put(ctx, purged, e.now, enq);
      },

      'pickup.archived': (ctx, e, enq) => {
        if (!ctx.pickups[e.pickupId]) return;
        // The reference stays in byReference (pointing at nothing live) so it cannot be registered twice.
        enq.emit.publish({ event: pickupRowEvent(e.pickupId, null) });
        return { ...ctx, pickups: deleteRow(ctx.pickups, e.pickupId) };
      },

      // After a process restart, once every message committed before the stop has been handled
      // again: claims of sessions that did not survive are void, work the registry had started
      // through I/O that died with the process is finished or undone, and a PIN that was never
      // generated is replaced (the PIN itself is never stored, so it cannot be resent).
      recovered: (ctx, e, enq) => {
        // The copy of the devices' state an earlier version kept (the reader answers for itself now).
        let next: RegistryCtx = 'devices' in ctx ? (({ devices: _devices, ...rest }) => rest)(ctx as RegistryCtx & { devices?: unknown }) : ctx;
        // The derived indexes are built now, at the start, not at the first citizen's request.
        for (const index of [BY_CLAIM, BY_OP, IN_COMPARTMENT]) rowsWhere(ctx.pickups, index, '');
        for (const p of Object.values(ctx.pickups)) {
          if (p.status === 'RELEASING') {
            if (p.unlockSent) continue; // the compartment has the unlock: its outcome will come
            // Authenticated, but no unlock reached a compartment: nothing moved. The PIN claim
            // is given back, so the same PIN and second factor work at the next session.
            if (p.claim) enq.emit.io({ op: { kind: 'releasePin', key: pinKey(p), owner: p.claim.sessionId } });
            enq.emit.audit({ entry: { action: 'pickup.releaseAbandoned', subject: p.reference, detail: { op: p.opId } } });
            next = put(next, readyAgain(p, enq), e.now, enq, 'releaseAbandoned');
            if (p.expiresAt !== null && e.now >= p.expiresAt) enq.emit.schedule({ key: `expire:${p.id}`, at: e.now, message: { type: 'pickup.expire', pickupId: p.id } });
            continue;
          }
          if (p.claim) next = put(next, { ...next.pickups[p.id]!, claim: null }, e.now, enq);
          // Notices the outbox may not have committed before the stop: asked again.
          noticesAgain(p, enq);
          // Purged but not yet archived when the process stopped: archive again (it is idempotent).
          if (p.personalDataDeleted) enq.emit.io({ op: { kind: 'archive', pickup: p } });
          if (p.status === 'LOADING' && p.compartmentId === null) {
            // Interrupted while winning a compartment: start loading over, and the allocation actor
            // gives back whatever it may have won. Saved before the allocation actor existed, the
            // registry still holds the slots (the allocation actor, spawned after this start's
            // recovery, would never get the message): given back from here as that version did,
            // and the slots keep the owner, so the allocation actor gives it back again on adoption.
            if (legacySlots(next)) next = abandonLegacy(next, p.reference, enq);
            else enq.emit.send({ to: ALLOCATION, message: { type: 'abandon', owner: p.reference } });
            next = put(next, { ...next.pickups[p.id]!, status: 'REGISTERED', loadRequest: null }, e.now, enq);
          }
          // A PIN whose hash is committed went out with its SMS in the same commit; one without a
          // hash was never generated (the I/O died with the process): a new one is issued.
          if (p.status === 'READY' && !issued(p)) next = put(next, replacePin(next.pickups[p.id]!, 'pin.reissuedAfterRestart', enq), e.now, enq);
        }
        return next === ctx ? undefined : next;
      },

      // A compartment tells what it holds after a restart: a disagreement with the registry is
      // resolved toward safety (never given to another pickup) and named to staff.
      'compartment.report': (ctx, e, enq) => {
        // Open: the opening's outcome came, and its closing checks the compartment against the pickups.
        if (e.state === 'open') return;
        const named = rowsWhere(ctx.pickups, IN_COMPARTMENT, e.compartmentId)[0];
        const loading = named?.status === 'LOADING';
        const mismatch = e.pickupId !== null ? named?.id !== e.pickupId : named !== undefined && !loading && named.status !== 'RELEASING';
        if (!mismatch) return;
        const held = e.pickupId ? (ctx.pickups[e.pickupId]?.reference ?? e.pickupId) : 'nothing';
        const text = `Compartment ${e.compartmentId} reports it holds ${held}, the registry has ${named ? `pickup ${named.reference} (${named.status})` : 'no pickup'} in it: check the compartment, then retrieve or cancel`;
        enq.emit.send({ to: ALARMS, message: raise(`occupancy:${e.compartmentId}`, 'OCCUPANCY_MISMATCH', 'critical', e.compartmentId, text) });
        enq.emit.audit({ entry: { action: 'occupancy.mismatch', subject: e.compartmentId, detail: { reported: held, registry: named?.reference ?? null } } });
        // Whatever the compartment says it holds keeps it reserved (in the slots still to be handed
        // over, in the first start after the upgrade: compartments report before the allocation actor exists).
        if (e.pickupId === null) return;
        const slots = legacySlots(ctx);
        const legacy = slots?.[e.compartmentId];
        if (!slots) enq.emit.send({ to: ALLOCATION, message: { type: 'reserve', compartmentId: e.compartmentId, pickupId: e.pickupId } });
        else if (legacy?.pickupId === null) return { ...ctx, compartments: setRow(slots, e.compartmentId, { ...legacy, pickupId: e.pickupId }) };
      },
    },
    async io(op) {
      switch (op.kind) {
        case 'issuePin': {
          const pin = crypto.generatePin();
          return { type: 'pin.generated', pickupId: op.pickupId, serial: op.serial, pin, pinHash: crypto.pinHash(pin, op.pickupId, op.serial) };
        }
        // A release storage refuses rejects with STORAGE_UNAVAILABLE: the supervisor parks it and
        // runs it again once storage takes writes; the slot keeps the owner until it is confirmed.
        case 'releaseCompartment':
          await claims.release(compartmentKey(op.compartmentId), op.owner);
          return { type: 'compartment.released', compartmentId: op.compartmentId, owner: op.owner };
        case 'claimPin':
          return unlessStorageFails(
            async () => ({ type: 'pin.claimed', pickupId: op.pickupId, opId: op.opId, ok: await claims.claimOnce(op.key, op.owner) }),
            () => ({ type: 'pin.claimed', pickupId: op.pickupId, opId: op.opId, ok: false, failed: 'STORAGE_UNAVAILABLE' }),
          );
        case 'releasePin':
          await claims.release(op.key, op.owner);
          return;
        // Refused by storage: parked by the supervisor like a release, so the pickup leaves the
        // registry once storage is back, not only at the next start.
        case 'archive':
          await archive.archive(op.pickup);
          return { type: 'pickup.archived', pickupId: op.pickup.id };
      }
    },
  });
}

/**
 * The outcome of taking a claim in the shared store, or `failed()` when the store could not be
 * asked (disk full, Redis down: the persistence reports it as STORAGE_UNAVAILABLE): the request
 * waiting for the claim is refused with the code rather than held until storage returns. Any
 * other error is a crash.
 */
async function unlessStorageFails(work: () => Promise<RegistryEvent | void>, failed: () => RegistryEvent): Promise<RegistryEvent | void> {
  try {
    return await work();
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'STORAGE_UNAVAILABLE') throw error;
    return failed();
  }
}
