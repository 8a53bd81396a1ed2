import type { BoxEnqueue } from './protocol.js';
import type { OutboxEvent } from './outbox.js';
import type { SessionEvent } from './session.js';
import { answer, refuse, REPLIES, type Request } from './runtime/ask.js';
import { ALARMS, ALLOCATION, AUTH, OUTBOX, ROOM_DOOR, clear, compartmentAddress, raise, sessionAddress, type Cause, type Purpose } from './messages.js';
import type { ErrorCode } from './domain/errors.js';
import { localDate } from './domain/dates.js';
import { validateDocumentNumber } from './domain/mrz.js';
import type { DocumentKind } from './domain/registration.js';

/**
 * The life of one pickup: every change of a pickup's row, as pure functions of the row, the
 * message and a `Step` (the time, the effect queue, and the one thing that reaches beyond the row:
 * freeing a compartment). None of them reads another pickup. The pickup's own actor
 * (actors/pickup-actor.ts) runs them on its row; the registry (actors/registry.ts) runs them on
 * the rows an earlier version left in its table.
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
  /**
   * Operations (unlocks) started for the pickup so far: its operation ids are `op-<id>-<n>`, so a
   * pickup makes them alone. Absent in rows saved before: their operations had ids of the
   * registry's count (`op-<n>`).
   */
  ops?: number;
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

/** What a registration gives a new pickup, once validated (actors/domain/registration.ts). */
export type Registration = Pick<Pickup, 'reference' | 'documentKind' | 'phone' | 'birthDate' | 'oldDocumentNumber' | 'accessible' | 'documents'>;

/** A pickup as readers see it: its row (no PIN hash: the auth actor alone holds those). */
export type PickupRow = Pickup;

/** A row saved before the auth actor existed: it still carries the PIN hash, until handed over. */
export type LegacyPickup = Pickup & { pinHash?: string | null };

/** The type of the event carrying a pickup row's new view (see `PickupRowEvent`). */
export const PICKUP_ROW = 'pickup.row';

/**
 * Published after the commit of every change of a pickup's row: the row as committed (`row`), or
 * `null` when the row left for the archive. Readers keep their projection of the
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

export interface PickupPolicy {
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
export interface PickupCrypto {
  numberKey(phone: string): string;
  equal(a: string, b: string): boolean;
}

/** The I/O a pickup's changes start; what each resolves with comes back as a message about the pickup. */
export type PickupIo =
  | { kind: 'issuePin'; pickupId: string; serial: number }
  /** one opening per PIN and authentication: the claim is kept once the door opened */
  | { kind: 'claimPin'; pickupId: string; opId: string; key: string; owner: string }
  | { kind: 'releasePin'; key: string; owner: string }
  /** an ended pickup, without personal data, leaves for the archive */
  | { kind: 'archive'; pickup: Pickup };

/**
 * What a change of one pickup needs beyond its row: the time it is handled, the effect queue, and
 * a way to free the compartment the pickup no longer holds (`owner` null: no claim in the shared
 * store to give back).
 */
export interface Step {
  readonly now: number;
  readonly enq: BoxEnqueue<any, PickupIo>;
  free(compartmentId: string, owner: string | null): void;
}

/** The pickup's next operation: its id, and the count the row keeps (see `Pickup.ops`). */
const nextOp = (p: Pickup): { opId: string; ops: number } => {
  const ops = (p.ops ?? 0) + 1;
  return { opId: `op-${p.id}-${ops}`, ops };
};

const ENDED: readonly PickupStatus[] = ['COLLECTED', 'RETURNED', 'CANCELLED'];

/** The outbox id of the SMS carrying a pickup's PIN of `serial`. */
export const pinSmsId = (pickupId: string, serial: number) => `pin-${pickupId}-${serial}`;

/** The pickup's status lets its PIN open it (READY) or it is opening it right now (RELEASING). */
export const livePin = (p: Pickup) => p.status === 'READY' || p.status === 'RELEASING';
/**
 * Where the auth actor has the pickup's PIN: `live` (READY: checked), `held` (RELEASING: kept,
 * but no guess is compared with it, as no PIN of a pickup being released was before the auth
 * actor), or `none` (no PIN made, or it died).
 */
export const pinState = (p: Pickup): 'live' | 'held' | 'none' => (p.pinIssued !== true ? 'none' : p.status === 'READY' ? 'live' : p.status === 'RELEASING' ? 'held' : 'none');
/** A PIN made, and alive: the auth actor holds its hash. */
export const holdsPin = (p: Pickup) => pinState(p) !== 'none';
/** The PIN of `serial` is the pickup's live one. */
const pinMatches = (p: Pickup, serial: number) => holdsPin(p) && p.pinSerial === serial;
/** The PIN of the current serial was made (a row saved before the auth actor tells it by its hash). */
const issued = (p: Pickup) => p.pinIssued ?? Boolean((p as LegacyPickup).pinHash);
/** Being loaded, waiting for the allocation actor to choose its compartment. */
export const awaitingCompartment = (p: Pickup | undefined): p is Pickup => p?.status === 'LOADING' && p.compartmentId === null;
/** The session holds a live claim on the pickup (its PIN passed, the claim's minutes not over). */
export const claimedBy = (p: Pickup | undefined, sessionId: string, now: number): p is Pickup =>
  p?.claim?.sessionId === sessionId && p.claim.until > now && p.status === 'READY';

/** The old ID's number as typed or read, in the form it is compared in; null when it is no valid number (a wrong factor). */
export function givenDocumentNumber(raw: string): string | null {
  try {
    return validateDocumentNumber(raw);
  } catch {
    return null;
  }
}

/** A compartment's report after a restart disagrees with the pickups: named to staff (one alarm per compartment), audited. */
export function occupancyMismatch(enq: BoxEnqueue<any, any>, compartmentId: string, held: string, recorded: string, reference: string | null): void {
  const text = `Compartment ${compartmentId} reports it holds ${held}, the pickups record ${recorded}: check the compartment, then retrieve or cancel`;
  enq.emit.send({ to: ALARMS, message: raise(`occupancy:${compartmentId}`, 'OCCUPANCY_MISMATCH', 'critical', compartmentId, text) });
  enq.emit.audit({ entry: { action: 'occupancy.mismatch', subject: compartmentId, detail: { reported: held, registry: reference } } });
}

/** The key of a PIN's single use in the shared store. */
const pinKey = (p: Pickup) => `pin:${p.reference}:${p.pinSerial}`;

type Staff = Request & { by: string };

export function pickupLife(policy: PickupPolicy, crypto: PickupCrypto) {
  const toSession = (s: Step, sessionId: string, message: SessionEvent) => s.enq.emit.send({ to: sessionAddress(sessionId), message });
  const fail = (s: Step, e: Request, code: ErrorCode, message: string) => s.enq.emit.send(refuse(e, code, message));
  const reply = (s: Step, e: Request, value: unknown) => s.enq.emit.send(answer(e, value));

  /**
   * Every change of a row goes through here (but for the hand-over of a row saved before the auth
   * actor, see the registry's `handOver`): it is published as the row's new view (the readers'
   * projection), then, when it is one (`change`), as a public `pickup.changed`: whoever hears the
   * change reads the row it describes. `before` is the row as it was (undefined: a new pickup).
   */
  const put = (before: Pickup | undefined, p: Pickup, s: Step, change?: string): Pickup => {
    const row: Pickup = { ...p, updatedAt: s.now };
    // A PIN dies with the pickup's READY (or its release), or when a new one replaces it: the auth
    // actor forgets its hash in the same commit. While the pickup is released, it is held aside.
    const was = before ? pinState(before) : 'none';
    const is = pinState(row);
    const auth = (type: 'credential.drop' | 'credential.hold' | 'credential.resume') => s.enq.emit.send({ to: AUTH, message: { type, pickupId: p.id } });
    if (was !== 'none' && is === 'none') auth('credential.drop');
    else if (was === 'live' && is === 'held') auth('credential.hold');
    else if (was === 'held' && is === 'live') auth('credential.resume');
    const legacy = row as LegacyPickup;
    if (legacy.pinHash && (!livePin(row) || row.pinIssued === false)) legacy.pinHash = null;
    s.enq.emit.publish({ event: pickupRowEvent(row.id, row) });
    if (change !== undefined) s.enq.emit.publish({ event: { type: 'pickup.changed', change, reference: row.reference, status: row.status, compartmentId: row.compartmentId } });
    return row;
  };

  /** The pickup is over (`patch` applied with it): its notices stop, its personal data is purged after the audit period. */
  const end = (p: Pickup, status: PickupStatus, s: Step, patch: Partial<Pickup> = {}): Pickup => {
    const purgeAt = s.now + policy.purgeAfterMs;
    s.enq.emit.cancel({ key: `remind:${p.id}` });
    s.enq.emit.cancel({ key: `expire:${p.id}` });
    s.enq.emit.schedule({ key: `purge:${p.id}`, at: purgeAt, message: { type: 'pickup.purge', pickupId: p.id } });
    return put(p, { ...p, ...patch, status, claim: null, opId: null, unlockSent: false, endedAt: s.now, purgeAt }, s, status.toLowerCase());
  };

  /** Counts a failed second factor or PIN against the pickup; the fifth locks it. */
  const countFailure = (p: Pickup, s: Step, what: string): Pickup => {
    const failedAttempts = p.failedAttempts + 1;
    const locked = failedAttempts >= policy.maxFailedAttempts;
    s.enq.emit.audit({ entry: { action: 'auth.failed', subject: p.reference, detail: { factor: what, attempt: failedAttempts } } });
    if (locked) {
      s.enq.emit.audit({ entry: { action: 'pickup.locked', subject: p.reference, detail: { attempts: failedAttempts } } });
      s.enq.emit.send({ to: ALARMS, message: raise(`locked:${p.id}`, 'PICKUP_LOCKED', 'warning', p.reference, `Pickup ${p.reference} locked after ${failedAttempts} failed attempts: reissue a PIN after checking identity`) });
    }
    return put(p, { ...p, failedAttempts, status: locked ? 'LOCKED' : p.status, claim: locked ? null : p.claim }, s, locked ? 'locked' : undefined);
  };

  /** A new PIN replaces the current one: the old one dies at once, the new one goes out by SMS. */
  const newPin = (p: Pickup, s: Step): Pickup => {
    const serial = p.pinSerial + 1;
    s.enq.emit.io({ op: { kind: 'issuePin', pickupId: p.id, serial } });
    return { ...p, pinIssued: false, pinSerial: serial, pinQueued: false };
  };

  /**
   * The PIN the citizen has can never open (its hash or its SMS was lost, or it was never made):
   * a new one goes out by SMS, audited as `action` (why it was replaced).
   */
  const replacePin = (p: Pickup, action: string, s: Step): Pickup => {
    s.enq.emit.audit({ entry: { action, subject: p.reference, detail: { serial: p.pinSerial + 1 } } });
    return newPin(p, s);
  };

  /**
   * A release that did not happen: the pickup is READY again. A PIN whose hash went with a lost
   * auth actor's state meanwhile (see `auth.started`) is replaced, or the SMS PIN could never open it.
   */
  const readyAgain = (p: Pickup, s: Step): Pickup => {
    const back: Pickup = { ...p, status: 'READY', opId: null, unlockSent: false, claim: null };
    return issued(back) ? back : replacePin(back, 'pin.reissuedAfterAuthReset', s);
  };

  const unlock = (s: Step, compartmentId: string, opId: string, purpose: Purpose, pickupId: string, cause: Cause) =>
    s.enq.emit.send({ to: compartmentAddress(compartmentId), message: { type: 'unlock', opId, purpose, pickupId, cause } });

  /** An unlock that did not lead to an open door: the pickup goes back to where it was. */
  const unlockAborted = (p: Pickup, purpose: Purpose, compartmentId: string, change: string, s: Step): Pickup => {
    if (purpose === 'collect') {
      // The door never opened: this authentication used nothing up, the same PIN may try again.
      if (p.claim) s.enq.emit.io({ op: { kind: 'releasePin', key: pinKey(p), owner: p.claim.sessionId } });
      // The window may have closed while the door was unlocking: expire now rather than never.
      if (p.expiresAt !== null && s.now >= p.expiresAt) s.enq.emit.schedule({ key: `expire:${p.id}`, at: s.now, message: { type: 'pickup.expire', pickupId: p.id } });
      // Back to READY only from the release: a pickup that expired meanwhile stays EXPIRED.
      const next: Pickup = p.status === 'RELEASING' ? readyAgain(p, s) : { ...p, opId: null, unlockSent: false, claim: null };
      return put(p, next, s, change);
    }
    if (purpose === 'load') {
      if (p.status === 'CANCELLED') {
        // Cancelled while staff were to load it, and the document never went in: it ends here,
        // and no retrieval is needed any more.
        s.enq.emit.send({ to: ALARMS, message: clear(`retrieve:${p.id}`) });
        s.free(compartmentId, p.reference);
        return end(p, 'CANCELLED', s, { compartmentId: null });
      }
      s.free(compartmentId, p.reference);
      return put(p, { ...p, status: 'REGISTERED', opId: null, compartmentId: null }, s, 'loadAborted');
    }
    return put(p, { ...p, opId: null }, s);
  };

  /**
   * An unlock the compartment refused or could not take (failed, or crashed on it): nothing moved.
   * A citizen at the door is told it cannot open; the pickup goes back to where it was.
   */
  const unlockRefused = (p: Pickup, purpose: Purpose, compartmentId: string, s: Step): Pickup => {
    if (purpose === 'collect' && p.claim) toSession(s, p.claim.sessionId, { type: 'release.failed', code: 'DEVICE_UNAVAILABLE' });
    return unlockAborted(p, purpose, compartmentId, 'unlockFailed', s);
  };

  /** A load that got no compartment is over: the pickup is to be loaded again. */
  const loadOver = (p: Pickup, s: Step): Pickup => put(p, { ...p, status: 'REGISTERED', loadRequest: null }, s, 'loadAborted');

  /**
   * Staff or the integration acting on a pickup a citizen is collecting right now are refused
   * PICKUP_BUSY: cutting in would leave the citizen's session waiting for a door that never opens.
   * The release ends within the door window. True when the request was refused.
   */
  const refusedWhileReleasing = (p: Pickup, e: Request, s: Step): boolean => {
    if (p.status !== 'RELEASING') return false;
    fail(s, e, 'PICKUP_BUSY', `a citizen is collecting pickup ${p.reference} right now: try again once the door is closed`);
    return true;
  };

  const smsDate = (at: number) => {
    const [y, m, d] = localDate(at, policy.timeZone).split('-');
    return `${d}.${m}.${y}`;
  };
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
  const noticesAgain = (p: Pickup, s: Step) => {
    if (p.status === 'READY' && p.reminderSent && p.phone) s.enq.emit.send({ to: OUTBOX, message: reminderSms(p, p.phone) });
    if (p.status === 'EXPIRED' && p.phone) s.enq.emit.send({ to: OUTBOX, message: expiredSms(p, p.phone) });
  };

  /** The second factor: compared with what was registered, counted when wrong, remembered on the claim when right. */
  const checkFactor = (p: Pickup, sessionId: string, factor: 'oldId' | 'birthDate', given: string | null, s: Step): Pickup => {
    const expected = factor === 'oldId' ? p.oldDocumentNumber : p.birthDate;
    if (given !== null && expected !== null && crypto.equal(given, expected)) {
      s.enq.emit.audit({ entry: { action: factor === 'oldId' ? 'auth.oldIdAccepted' : 'auth.birthDateAccepted', subject: p.reference, detail: { session: sessionId } } });
      toSession(s, sessionId, { type: 'auth.factorAccepted', factor, documentNumber: factor === 'oldId' ? given : null });
      return put(p, { ...p, claim: { ...p.claim!, factor } }, s);
    }
    const after = countFailure(p, s, factor);
    toSession(s, sessionId, { type: 'auth.factorRejected', factor, locked: after.status === 'LOCKED', code: factor === 'oldId' ? 'OLD_ID_MISMATCH' : 'BIRTH_DATE_MISMATCH' });
    return after;
  };

  const life = {
    put,
    replacePin,
    unlockRefused,
    loadOver,

    /** A second factor from a session: checked if the session holds a live claim on the pickup, refused SESSION_NOT_FOUND if not. */
    secondFactor(p: Pickup | undefined, sessionId: string, factor: 'oldId' | 'birthDate', given: string | null, s: Step): Pickup | undefined {
      if (!claimedBy(p, sessionId, s.now)) return void toSession(s, sessionId, { type: 'auth.factorRejected', factor, locked: false, code: 'SESSION_NOT_FOUND' });
      return checkFactor(p, sessionId, factor, given, s);
    },

    // Catch-ups after a revival of a peer, pickup by pickup (the registry names the pickups to the
    // peer first, so it drops what it holds of any other): each pickup says what the peer should
    // hold of it, and mends what the peer lost.

    /** The auth actor is back: the pickup's PIN, as the auth actor should hold it (none: nothing to say). */
    expectCredential(p: Pickup, s: Step): void {
      const state = pinState(p);
      s.enq.emit.send({ to: AUTH, message: { type: 'credential.expect', pickupId: p.id, pin: state === 'none' ? null : { serial: p.pinSerial, held: state === 'held' } } });
    },

    /**
     * The auth actor never got the PIN of `serial` (refused while it was failed): it can never
     * open, though its SMS went out. READY: a new PIN by SMS; being released: one should its door
     * not open (readyAgain). A PIN replaced or dead meanwhile needs nothing.
     */
    credentialMissing(p: Pickup, serial: number, s: Step): Pickup | undefined {
      if (p.pinSerial !== serial || pinState(p) === 'none') return;
      if (p.status === 'RELEASING') return put(p, { ...p, pinIssued: false }, s);
      return put(p, replacePin(p, 'pin.reissuedAfterAuthFailure', s), s, 'pinReissued');
    },

    /**
     * The auth actor's state was lost or reset (a new one started): the PIN it held is gone, so
     * it could never open. READY: a new PIN by SMS; being released: one should its door not open.
     */
    authLost(p: Pickup, s: Step): Pickup | undefined {
      if (!holdsPin(p)) return;
      if (p.status === 'RELEASING') return put(p, { ...p, pinIssued: false }, s);
      return put(p, replacePin(p, 'pin.reissuedAfterAuthReset', s), s, 'pinReissued');
    },

    /**
     * The outbox is back: the PIN message not heard confirmed is named (`sms.expect`), and the
     * reminder or expiry notice is sent again under its id (the outbox drops one it holds or
     * delivered).
     */
    outboxBack(p: Pickup, s: Step): void {
      if (p.status === 'READY' && p.pinIssued === true && !p.pinQueued) s.enq.emit.send({ to: OUTBOX, message: { type: 'sms.expect', ids: [pinSmsId(p.id, p.pinSerial)], pickupId: p.id } });
      noticesAgain(p, s);
    },

    /**
     * The outbox never got the message of a PIN (refused while it was failed): the citizen has no
     * PIN. The PIN itself is never kept, so the pickup gets a new one by SMS (audited), if the
     * missing message is still its PIN's.
     */
    smsMissing(p: Pickup, ids: ReadonlySet<string>, s: Step): Pickup | undefined {
      if (p.status !== 'READY' || p.pinQueued || !ids.has(pinSmsId(p.id, p.pinSerial))) return;
      return put(p, replacePin(p, 'pin.reissuedAfterOutboxFailure', s), s, 'pinReissued');
    },

    /**
     * A compartment said after a restart that it holds `reported` (null: nothing); the allocation
     * actor asks the pickup (`p`; undefined: there is none) whether it is recorded in it. A
     * mismatch: the compartment holds it while it is over or recorded elsewhere, or holds nothing
     * or another while it is recorded in it (not while being loaded or released: its door is part
     * of that). Named to staff; the compartment stays reserved (the allocation actor saw to that).
     */
    occupancyCheck(p: Pickup | undefined, e: { compartmentId: string; reported: string | null; pickupId: string }, s: Step): void {
      const inIt = p !== undefined && p.compartmentId === e.compartmentId && p.endedAt === null;
      const mismatch = e.reported === e.pickupId ? !inIt : inIt && (e.reported !== null || (p.status !== 'LOADING' && p.status !== 'RELEASING'));
      if (!mismatch) return;
      const held = e.reported === null ? 'nothing' : e.reported === e.pickupId ? (p?.reference ?? e.pickupId) : e.reported;
      const recorded = e.reported === e.pickupId ? (p ? `pickup ${p.reference} (${p.status}) in ${p.compartmentId ?? 'no compartment'}` : `no pickup ${e.pickupId}`) : `pickup ${p!.reference} (${p!.status}) in it`;
      occupancyMismatch(s.enq, e.compartmentId, held, recorded, p?.reference ?? null);
    },

    /** The allocation actor restarted while choosing its compartment (its claims given back): staff load again. */
    loadAbandoned(p: Pickup | undefined, s: Step): Pickup | undefined {
      if (!awaitingCompartment(p)) return;
      // The staff member waiting for the compartment is answered now, not when their ask times out.
      if (p.loadRequest) fail(s, { requestId: p.loadRequest, replyTo: REPLIES }, 'ACTOR_CRASHED', `choosing a compartment for pickup ${p.reference} failed; load it again`);
      return loadOver(p, s);
    },

    /** An `allocate` or `unlock` of the pickup reached an actor that failed for good, or crashed it, and took nothing: as if refused. */
    deliveryFailed(p: Pickup, e: { messageType: string; message?: { opId?: string; purpose?: Purpose } }, s: Step): Pickup | undefined {
      if (e.messageType === 'allocate') {
        // The staff member's load was refused ACTOR_FAILED (its ask followed the message): the
        // pickup is to be loaded again once the allocation actor is revived.
        return awaitingCompartment(p) ? loadOver(p, s) : undefined;
      }
      if (e.messageType === 'unlock' && e.message?.opId && e.message.purpose && p.opId === e.message.opId && p.compartmentId) {
        // The door cannot open: like a refused unlock, nothing is used up (the PIN works again
        // once the compartment is revived). A staff member's retrieval was refused ACTOR_FAILED.
        return unlockRefused(p, e.message.purpose, p.compartmentId, s);
      }
    },

    /**
     * The timers a row implies: its reminder and expiry while it is in the box, its purge once it
     * is over. For a pickup that starts with a row made elsewhere (a store written by hand, or
     * one day a split of the registry's table of an earlier version): set again under the keys the
     * registry used, so the pickup keeps its dates. A reminder or expiry already due fires at once.
     * (A newly registered pickup has none.)
     */
    timersOf(p: Pickup, s: Step): void {
      const inBox = p.status === 'READY' || p.status === 'LOCKED' || p.status === 'RELEASING';
      if (inBox && p.expiresAt !== null) {
        if (p.status === 'READY' && !p.reminderSent) s.enq.emit.schedule({ key: `remind:${p.id}`, at: p.expiresAt - policy.reminderBeforeMs, message: { type: 'pickup.remind', pickupId: p.id } });
        s.enq.emit.schedule({ key: `expire:${p.id}`, at: p.expiresAt, message: { type: 'pickup.expire', pickupId: p.id } });
      }
      if (p.endedAt !== null && !p.personalDataDeleted && p.purgeAt !== null) s.enq.emit.schedule({ key: `purge:${p.id}`, at: p.purgeAt, message: { type: 'pickup.purge', pickupId: p.id } });
    },

    /** The allocation actor is back: the compartment the pickup is in, or that it waits for one, or (neither) that no slot is its. */
    expectSlot(p: Pickup, s: Step): void {
      const awaiting = awaitingCompartment(p);
      const placed = p.compartmentId !== null && p.endedAt === null;
      s.enq.emit.send({ to: ALLOCATION, message: { type: 'slot.expect', pickupId: p.id, compartmentId: placed ? p.compartmentId : null, awaiting } });
    },

    /** A new pickup, registered with what was validated: known, not yet in the box. */
    register(id: string, valid: Registration, e: Request, s: Step): Pickup {
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
        createdAt: s.now,
        updatedAt: s.now,
        readyAt: null,
        expiresAt: null,
        reminderSent: false,
        endedAt: null,
        purgeAt: null,
        personalDataDeleted: false,
      };
      s.enq.emit.audit({ entry: { action: 'pickup.registered', subject: p.reference, detail: { kind: p.documentKind } } });
      reply(s, e, { id, reference: p.reference, status: p.status });
      return put(undefined, p, s, 'registered');
    },

    cancel(p: Pickup, e: Staff, s: Step): Pickup | undefined {
      if (refusedWhileReleasing(p, e, s)) return;
      // Every state that is not final has this way out (staff, audited).
      if (p.endedAt !== null || p.status === 'CANCELLED') {
        return void fail(s, e, 'PICKUP_WRONG_STATE', `pickup ${p.reference} is ${p.status} and cannot be cancelled`);
      }
      s.enq.emit.audit({ entry: { action: 'pickup.cancelled', actor: e.by, subject: p.reference } });
      if (p.compartmentId) {
        // The document is still in the box: staff must take it out (retrieve) before it ends.
        s.enq.emit.send({ to: ALARMS, message: raise(`retrieve:${p.id}`, 'RETRIEVAL_NEEDED', 'info', p.compartmentId, `Cancelled pickup ${p.reference} lies in ${p.compartmentId}: take it out`) });
        s.enq.emit.cancel({ key: `remind:${p.id}` });
        s.enq.emit.cancel({ key: `expire:${p.id}` });
        reply(s, e, { reference: p.reference, status: 'CANCELLED', compartmentId: p.compartmentId });
        return put(p, { ...p, status: 'CANCELLED', claim: null }, s, 'cancelled');
      }
      reply(s, e, { reference: p.reference, status: 'CANCELLED', compartmentId: null });
      return end(p, 'CANCELLED', s);
    },

    load(p: Pickup, e: Staff, s: Step): Pickup | undefined {
      if (p.status !== 'REGISTERED') return void fail(s, e, 'PICKUP_WRONG_STATE', `pickup ${p.reference} is ${p.status}, not REGISTERED`);
      // The allocation actor chooses and wins the compartment (in the shared store: boxes of a
      // fleet never assign one twice), and tells which in `compartment.claimed`: the staff
      // member's request is answered then.
      const request = { requestId: e.requestId, replyTo: e.replyTo, by: e.by };
      s.enq.emit.send({ to: ALLOCATION, message: { type: 'allocate', pickupId: p.id, owner: p.reference, documents: p.documents, accessible: p.accessible, request } });
      return put(p, { ...p, status: 'LOADING', compartmentId: null, opId: null, loadRequest: e.requestId }, s);
    },

    /** The allocation actor won a compartment for the load (or none: `compartmentId` null, and why). */
    compartmentClaimed(p: Pickup | undefined, e: Staff & { pickupId: string; compartmentId: string | null; failed?: 'STORAGE_UNAVAILABLE' }, s: Step): Pickup | undefined {
      // (A load asked before a restart and answered after it, when staff asked again meanwhile:
      // the pickup is loading for the new request, and the old one's compartment goes back.)
      const stale = p?.loadRequest != null && p.loadRequest !== e.requestId;
      if (!p || p.status !== 'LOADING' || p.compartmentId !== null || stale) {
        // The pickup moved on while its compartment was being won (cancelled meanwhile): the
        // staff member loading it gets an answer, and the compartment's claim goes back.
        fail(s, e, 'PICKUP_WRONG_STATE', `pickup ${p?.reference ?? e.pickupId} is ${p?.status ?? 'gone'} and is not loaded`);
        // Never the compartment the pickup is in: a load asked before a restart and answered
        // after the pickup was loaded over can name it again (claims are per owner).
        if (e.compartmentId && p && e.compartmentId !== p.compartmentId) s.free(e.compartmentId, p.reference);
        return;
      }
      if (!e.compartmentId) {
        if (e.failed) fail(s, e, e.failed, 'storage is unavailable: no compartment was assigned; retry once the box reports healthy');
        else fail(s, e, 'NO_FITTING_COMPARTMENT', `no free ${p.accessible ? 'accessible ' : ''}compartment fits pickup ${p.reference}`);
        return put(p, { ...p, status: 'REGISTERED', loadRequest: null }, s);
      }
      const compartmentId = e.compartmentId;
      const op = nextOp(p);
      s.enq.emit.audit({ entry: { action: 'pickup.loading', actor: e.by, subject: p.reference, detail: { compartment: compartmentId } } });
      unlock(s, compartmentId, op.opId, 'load', p.id, { kind: 'staff', staffId: e.by });
      reply(s, e, { reference: p.reference, status: 'LOADING', compartmentId });
      return put(p, { ...p, ...op, status: 'LOADING', compartmentId, loadRequest: null }, s, 'loading');
    },

    retrieve(p: Pickup, e: Staff, s: Step): Pickup | undefined {
      if (refusedWhileReleasing(p, e, s)) return;
      if (!p.compartmentId || p.endedAt !== null) {
        return void fail(s, e, 'PICKUP_WRONG_STATE', `pickup ${p.reference} is ${p.status} and not in a compartment`);
      }
      // One unlock per pickup at a time: a retrieval never takes over an opening under way (it would
      // replace the operation whose opening the pickup waits for, which then goes unrecorded).
      if (p.opId !== null) return void fail(s, e, 'COMPARTMENT_BUSY', `compartment ${p.compartmentId} of pickup ${p.reference} is being unlocked already (${p.status}): try again once that is over`);
      const op = nextOp(p);
      s.enq.emit.audit({ entry: { action: 'pickup.retrieving', actor: e.by, subject: p.reference, detail: { compartment: p.compartmentId } } });
      unlock(s, p.compartmentId, op.opId, 'retrieve', p.id, { kind: 'staff', staffId: e.by });
      reply(s, e, { reference: p.reference, status: p.status, compartmentId: p.compartmentId });
      return put(p, { ...p, ...op, claim: null }, s);
    },

    reissuePin(p: Pickup, e: Staff, s: Step): Pickup | undefined {
      if (p.status !== 'READY' && p.status !== 'LOCKED') return void fail(s, e, 'PICKUP_WRONG_STATE', `pickup ${p.reference} is ${p.status}`);
      s.enq.emit.audit({ entry: { action: 'pin.reissued', actor: e.by, subject: p.reference } });
      const next: Pickup = { ...newPin(p, s), status: 'READY', failedAttempts: 0, claim: null };
      reply(s, e, { reference: p.reference, status: next.status });
      return put(p, next, s, 'pinReissued');
    },

    /**
     * "I have not received an SMS", counted by the auth actor on its throttles: a READY pickup
     * within its daily budget gets a new PIN. One mid-collection at another panel keeps its PIN:
     * that session is past it.
     */
    resend(p: Pickup, kioskId: string, s: Step): Pickup | undefined {
      if (p.status !== 'READY' || (p.claim && p.claim.until > s.now)) return;
      const day = localDate(s.now, policy.timeZone);
      const budget = policy.pinResendsPerDay ?? 2;
      const count = p.resends?.day === day ? p.resends.count : 0;
      if (count >= budget) {
        s.enq.emit.audit({ entry: { action: 'pin.resendRefused', actor: kioskId, subject: p.reference, detail: { reason: 'budget', perDay: budget } } });
        return;
      }
      s.enq.emit.audit({ entry: { action: 'pin.resent', actor: kioskId, subject: p.reference, detail: { serial: p.pinSerial + 1, today: count + 1 } } });
      return put(p, { ...newPin(p, s), resends: { day, count: count + 1 } }, s, 'pinResent');
    },

    /** The PIN was made: its SMS goes to the outbox, its hash to the auth actor, which alone checks PINs. */
    pinGenerated(p: Pickup, e: { serial: number; pin: string; pinHash: string }, s: Step): Pickup | undefined {
      // A PIN for an older serial (reissued meanwhile) or an ended pickup is dropped unsent.
      if (p.pinSerial !== e.serial || p.status !== 'READY' || !p.phone) return;
      const last = smsDate(p.expiresAt ?? s.now);
      s.enq.emit.send({
        to: OUTBOX,
        message: {
          type: 'sms.enqueue',
          id: pinSmsId(p.id, e.serial),
          ack: { message: { type: 'pin.queued', pickupId: p.id, serial: e.serial } },
          to: p.phone,
          text:
            `Ihr Dokument liegt in der Ausgabebox (${policy.location}). PIN: ${e.pin}. Abholung bis ${last}. ${policy.hoursText}. ` +
            `Your document is ready at the pickup box; PIN ${e.pin}; collect by ${last}.`,
        },
      });
      s.enq.emit.audit({ entry: { action: 'pin.issued', subject: p.reference, detail: { serial: e.serial } } });
      s.enq.emit.send({ to: AUTH, message: { type: 'credential.set', pickupId: p.id, numberKey: crypto.numberKey(p.phone), serial: e.serial, pinHash: e.pinHash } });
      return put(p, { ...p, pinIssued: true, pinQueued: false }, s);
    },

    pinQueued(p: Pickup, serial: number, s: Step): Pickup | undefined {
      if (p.pinSerial !== serial || p.pinQueued) return;
      return put(p, { ...p, pinQueued: true }, s);
    },

    /**
     * The auth actor found the PIN typed at a panel to be this pickup's: the session claims it,
     * unless the PIN died meanwhile (reissued, locked, ended: as a wrong PIN, but not counted),
     * another session holds it, or an unlock of it is under way. `quarantined`: its handling
     * kept crashing, the box cannot hand it out.
     */
    pinMatched(p: Pickup | undefined, e: { sessionId: string; kioskId: string; serial: number }, quarantined: boolean, s: Step): Pickup | undefined {
      if (!p || !pinMatches(p, e.serial)) return void toSession(s, e.sessionId, { type: 'auth.rejected', retryAt: null });
      // Staff hand it out at the counter, and the panel says so at once rather than "try again".
      if (quarantined) return void toSession(s, e.sessionId, { type: 'auth.busy', code: 'PICKUP_FAILED' });
      // Another session holds it, or an unlock is under way (a citizen at its door, staff taking
      // it out): the PIN opens nothing now, and the panel says so at once.
      if ((p.claim && p.claim.until > s.now && p.claim.sessionId !== e.sessionId) || p.opId !== null || p.status !== 'READY') {
        return void toSession(s, e.sessionId, { type: 'auth.busy' });
      }
      s.enq.emit.audit({ entry: { action: 'auth.pinAccepted', actor: e.kioskId, subject: p.reference, detail: { session: e.sessionId } } });
      toSession(s, e.sessionId, {
        type: 'auth.pinAccepted',
        documentKind: p.documentKind,
        // Whether the card reader can take the old ID now is the reader's to say (the session asks it).
        oldIdRegistered: p.oldDocumentNumber !== null,
        pickupId: p.id,
      });
      return put(p, { ...p, claim: { sessionId: e.sessionId, until: s.now + policy.claimMs, factor: null } }, s);
    },

    /**
     * The auth actor found the PIN typed at the after-hours room's outside panel to be this
     * pickup's: the room door opens. Nothing is claimed, and the PIN stays valid for the pickup inside.
     */
    doorMatched(p: Pickup | undefined, e: Request & { kioskId: string; serial: number }, quarantined: boolean, s: Step): void {
      // READY only: a pickup being released opens no room door (its PIN is held aside meanwhile).
      if (!p || !pinMatches(p, e.serial) || p.status !== 'READY') return void s.enq.emit.send(refuse(e, 'AUTH_FAILED', 'Number and PIN do not match a pickup in the box', { retryAt: null }));
      if (quarantined) return void s.enq.emit.send(refuse(e, 'PICKUP_FAILED', 'This pickup cannot be collected at the box: please ask at the counter'));
      s.enq.emit.audit({ entry: { action: 'auth.doorPinAccepted', actor: e.kioskId, subject: p.reference } });
      s.enq.emit.send({ to: ROOM_DOOR, message: { type: 'grant', kioskId: e.kioskId, reference: p.reference } });
      s.enq.emit.send(answer(e, { opened: true }));
    },

    /** A wrong PIN on the number: counted toward the lock if the pickup is READY with the PIN of `serial` still. */
    pinMissed(p: Pickup, serial: number, s: Step): Pickup | undefined {
      if (p.status === 'READY' && pinMatches(p, serial)) return countFailure(p, s, 'pin');
    },

    /** The session, past the PIN and a second factor, asks for the door: the PIN's single use is claimed first. */
    release(p: Pickup | undefined, sessionId: string, s: Step): Pickup | undefined {
      if (!p || !p.claim?.factor || !p.compartmentId) return void toSession(s, sessionId, { type: 'release.failed', code: 'AUTH_FAILED' });
      // An unlock of this pickup is under way (staff retrieving it): never overwrite its op.
      if (p.opId !== null) return void toSession(s, sessionId, { type: 'release.failed', code: 'PICKUP_BUSY' });
      const op = nextOp(p);
      // Single use of the PIN, atomic in the shared store, before anything moves.
      s.enq.emit.io({ op: { kind: 'claimPin', pickupId: p.id, opId: op.opId, key: pinKey(p), owner: sessionId } });
      return put(p, { ...p, ...op, status: 'RELEASING' }, s, 'releasing');
    },

    pinClaimed(p: Pickup, e: { opId: string; ok: boolean; failed?: 'STORAGE_UNAVAILABLE' }, s: Step): Pickup | undefined {
      if (p.status !== 'RELEASING' || p.opId !== e.opId || !p.claim || !p.compartmentId) return;
      if (!e.ok && e.failed) {
        // The store could not be asked: nothing moved; the PIN still works once storage is back.
        toSession(s, p.claim.sessionId, { type: 'release.failed', code: e.failed });
        return put(p, readyAgain(p, s), s);
      }
      if (!e.ok) {
        s.enq.emit.audit({ entry: { action: 'pin.reuseRefused', subject: p.reference, detail: { session: p.claim.sessionId } } });
        toSession(s, p.claim.sessionId, { type: 'release.failed', code: 'AUTH_FAILED' });
        return put(p, readyAgain(p, s), s);
      }
      unlock(s, p.compartmentId, e.opId, 'collect', p.id, { kind: 'session', sessionId: p.claim.sessionId, pickupId: p.id });
      toSession(s, p.claim.sessionId, { type: 'release.started', compartmentId: p.compartmentId });
      return put(p, { ...p, unlockSent: true }, s);
    },

    /** The session ended: a claim it held on the READY pickup is void. */
    sessionEnded(p: Pickup, s: Step): Pickup | undefined {
      if (p.status === 'READY' && p.claim) return put(p, { ...p, claim: null }, s);
    },

    opened(p: Pickup, e: { opId: string; purpose: Purpose; compartmentId: string }, s: Step): Pickup | undefined {
      if (p.opId !== e.opId) return;
      if (e.purpose === 'collect') {
        s.enq.emit.audit({ entry: { action: 'pickup.collected', subject: p.reference, detail: { compartment: e.compartmentId } } });
        if (p.claim) toSession(s, p.claim.sessionId, { type: 'pickup.doorOpened', compartmentId: e.compartmentId });
        return end(p, 'COLLECTED', s, { compartmentId: null });
      }
      if (e.purpose === 'retrieve') {
        s.enq.emit.audit({ entry: { action: 'pickup.returned', subject: p.reference, detail: { compartment: e.compartmentId } } });
        // The staff task is done: the expiry / cancellation alarm ends with it.
        s.enq.emit.send({ to: ALARMS, message: clear(`retrieve:${p.id}`) });
        return end(p, p.status === 'CANCELLED' ? 'CANCELLED' : 'RETURNED', s, { compartmentId: null });
      }
    },

    /** Staff shut the door on the document: it is ready, and the PIN goes out. */
    loaded(p: Pickup, e: { opId: string; compartmentId: string }, s: Step): Pickup | undefined {
      if (p.opId !== e.opId || p.status !== 'LOADING') return;
      const expiresAt = s.now + policy.windowMs;
      const serial = p.pinSerial + 1;
      s.enq.emit.io({ op: { kind: 'issuePin', pickupId: p.id, serial } });
      s.enq.emit.schedule({ key: `remind:${p.id}`, at: expiresAt - policy.reminderBeforeMs, message: { type: 'pickup.remind', pickupId: p.id } });
      s.enq.emit.schedule({ key: `expire:${p.id}`, at: expiresAt, message: { type: 'pickup.expire', pickupId: p.id } });
      s.enq.emit.audit({ entry: { action: 'pickup.ready', subject: p.reference, detail: { compartment: e.compartmentId } } });
      return put(p, { ...p, status: 'READY', opId: null, readyAt: s.now, expiresAt, pinSerial: serial }, s, 'ready');
    },

    /**
     * The door closed after an opening for the pickup (its collection or retrieval): the
     * compartment is free again, unless the pickup's row still puts its document in there (the
     * opening was never seen): then staff must look, and the compartment stays given. (A free that
     * comes after the allocation actor gave the compartment to another pickup meanwhile is left
     * alone there: the claim it names is no longer the compartment's.)
     *
     * A closing for the pickup's own unlock, whose opening has not come yet, says the door opened
     * for it: a compartment reports a closing only after the opening it saw. That opening can come
     * later than the closing (refused while its actor had failed for good, told again once it
     * was revived, after the closing sent meanwhile), so the closing ends the pickup as its
     * opening would have, and the opening, when it comes, finds no unlock to match.
     */
    closedAfterOpening(p: Pickup | undefined, e: { compartmentId: string; opId: string; purpose: Purpose }, s: Step): Pickup | undefined {
      if (p && p.opId === e.opId && p.compartmentId === e.compartmentId) {
        const ended = life.opened(p, e, s);
        if (ended) {
          s.free(e.compartmentId, p.reference);
          return ended;
        }
      }
      if (p && p.endedAt === null && p.compartmentId === e.compartmentId) {
        s.enq.emit.send({ to: ALARMS, message: raise(`occupancy:${e.compartmentId}`, 'OCCUPANCY_MISMATCH', 'critical', e.compartmentId, `Compartment ${e.compartmentId} closed after an opening, but pickup ${p.reference} is still recorded in it: check the compartment, then retrieve or cancel the pickup`) });
        s.enq.emit.audit({ entry: { action: 'occupancy.mismatch', subject: e.compartmentId, detail: { pickup: p.reference, op: e.opId } } });
        return;
      }
      s.free(e.compartmentId, p?.reference ?? null);
    },

    notOpened(p: Pickup, e: { opId: string; purpose: Purpose; compartmentId: string }, s: Step): Pickup | undefined {
      if (p.opId !== e.opId) return;
      // The latch re-engaged; the document is still there and the pickup stays READY.
      if (e.purpose === 'collect' && p.claim) toSession(s, p.claim.sessionId, { type: 'pickup.doorNotOpened' });
      return unlockAborted(p, e.purpose, e.compartmentId, 'doorNotOpened', s);
    },

    remind(p: Pickup, s: Step): Pickup | undefined {
      if (p.status !== 'READY' || p.reminderSent || !p.phone) return;
      s.enq.emit.send({ to: OUTBOX, message: reminderSms(p, p.phone) });
      s.enq.emit.audit({ entry: { action: 'pickup.reminded', subject: p.reference } });
      return put(p, { ...p, reminderSent: true }, s);
    },

    expire(p: Pickup, s: Step): Pickup | undefined {
      if (p.status !== 'READY' && p.status !== 'LOCKED' && p.status !== 'RELEASING') return;
      // A citizen at the door right now keeps the claim's few minutes; a stale release does not.
      if (p.status === 'RELEASING' && p.claim && p.claim.until > s.now) {
        s.enq.emit.schedule({ key: `expire:${p.id}`, at: p.claim.until, message: { type: 'pickup.expire', pickupId: p.id } });
        return;
      }
      s.enq.emit.audit({ entry: { action: 'pickup.expired', subject: p.reference } });
      s.enq.emit.send({ to: ALARMS, message: raise(`retrieve:${p.id}`, 'PICKUP_EXPIRED', 'info', p.compartmentId ?? p.reference, `Pickup ${p.reference} expired: take it out of ${p.compartmentId} and back to the counter`) });
      if (p.phone) s.enq.emit.send({ to: OUTBOX, message: expiredSms(p, p.phone) });
      return put(p, { ...p, status: 'EXPIRED', claim: null }, s, 'expired');
    },

    /** The audit period is over: personal data is deleted, and the row is written to the archive (it leaves on `pickup.archived`). */
    purge(p: Pickup, s: Step): Pickup | undefined {
      if (!ENDED.includes(p.status) || p.personalDataDeleted) return;
      s.enq.emit.audit({ entry: { action: 'pickup.personalDataDeleted', subject: p.reference } });
      const purged: Pickup = { ...p, phone: null, birthDate: null, oldDocumentNumber: null, personalDataDeleted: true };
      s.enq.emit.io({ op: { kind: 'archive', pickup: { ...purged, updatedAt: s.now } } });
      return put(p, purged, s);
    },

    /**
     * After a process restart, once every message committed before the stop was handled again:
     * a claim of a session that did not survive is void, work started through I/O that died with
     * the process is finished or undone, and a PIN that was never generated is replaced (the PIN
     * itself is never stored, so it cannot be resent). `loadCut`: it was winning a compartment,
     * whatever it may have won is given back by the caller. Also when its actor is revived after
     * it failed for good (`revived`: the process did not stop), since what came for it meanwhile
     * — the outcome of that I/O — was refused.
     */
    recover(p: Pickup, s: Step, loadCut: () => void, revived = false): Pickup | undefined {
      const row = recovered(p, s, loadCut, revived);
      // Recorded in a compartment: after a restart it asks the compartment what it holds (the
      // compartment tells the pickup it holds, `occupancy.check`); a disagreement is named to
      // staff. Not when revived: the compartment kept the reports the failed actor refused, and
      // tells them again now (`delivery.resumed`); asked before they came, it would name an
      // unlock's outcome it has already seen (a retrieval's door closed) a disagreement.
      const now = row ?? p;
      if (!revived && now.compartmentId !== null && now.endedAt === null) s.enq.emit.send({ to: compartmentAddress(now.compartmentId), message: { type: 'occupancy.expect', pickupId: now.id, reference: now.reference, status: now.status } });
      return row;
    },
  };

  /**
   * What `recover` does to the row (see there). After a restart every session is gone, and so is
   * any claim; a revived pickup keeps a claim whose session may still be at the panel, and tells
   * a session whose release it undoes.
   */
  function recovered(p: Pickup, s: Step, loadCut: () => void, revived: boolean): Pickup | undefined {
    if (p.status === 'RELEASING') {
      if (p.unlockSent) return; // the compartment has the unlock: its outcome will come
      // Authenticated, but no unlock reached a compartment: nothing moved. The PIN claim
      // is given back, so the same PIN and second factor work at the next session.
      if (p.claim) s.enq.emit.io({ op: { kind: 'releasePin', key: pinKey(p), owner: p.claim.sessionId } });
      // (Revived: the session waiting for its door hears it will not open, and can start again.)
      if (revived && p.claim) toSession(s, p.claim.sessionId, { type: 'release.failed', code: 'PICKUP_FAILED' });
      s.enq.emit.audit({ entry: { action: 'pickup.releaseAbandoned', subject: p.reference, detail: { op: p.opId } } });
      const back = put(p, readyAgain(p, s), s, 'releaseAbandoned');
      if (p.expiresAt !== null && s.now >= p.expiresAt) s.enq.emit.schedule({ key: `expire:${p.id}`, at: s.now, message: { type: 'pickup.expire', pickupId: p.id } });
      return back;
    }
    let row = p;
    if (p.claim && !revived) row = put(row, { ...row, claim: null }, s);
    // Notices the outbox may not have committed before the stop: asked again.
    noticesAgain(p, s);
    // Purged but not yet archived when the process stopped: archive again (it is idempotent).
    if (p.personalDataDeleted) s.enq.emit.io({ op: { kind: 'archive', pickup: p } });
    if (awaitingCompartment(p)) {
      loadCut();
      row = put(row, { ...row, status: 'REGISTERED', loadRequest: null }, s);
    }
    // A PIN whose hash is committed went out with its SMS in the same commit; one without a
    // hash was never generated (the I/O died with the process, or its outcome was refused while
    // the actor had failed): a new one is issued.
    if (p.status === 'READY' && !issued(p)) row = put(row, replacePin(row, revived ? 'pin.reissuedAfterRevival' : 'pin.reissuedAfterRestart', s), s);
    return row === p ? undefined : row;
  }
  return life;
}
