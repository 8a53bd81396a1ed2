import type { BoxEnqueue, BoxOutgoing } from './protocol.js';
import type { CompartmentClaims } from './allocation.js';
import { z } from 'zod';
import { defineActor } from './runtime/define.js';
import { ALLOCATION, REGISTRY, errorCode, pinQueuedSchema, purposeSchema, request } from './messages.js';
import { claimedBy, givenDocumentNumber, pickupLife, pickupRowEvent, type Pickup, type PickupCrypto, type PickupIo, type PickupPolicy, type Step } from './pickup.js';

/**
 * One pickup as an actor of its own, `pickup/<id>`: its context is its row, its timers are its
 * reminder, expiry and purge, and every message about it comes to it (`pickupAddress`). What it
 * does with each is the pickup's life (actors/pickup.ts), the functions the registry runs on the
 * rows an earlier version left in its table. The registry spawns it as it registers the pickup; a
 * pickup whose handling keeps crashing fails alone, as any actor does (PICKUP_FAILED); archived, it
 * stops and its record leaves the store.
 */
/** The shared store's atomic claims, as the allocation actor takes them: here a PIN's single use. */
export type PickupClaims = CompartmentClaims;

/** Where ended pickups go once their personal data is deleted. */
export interface PickupArchive {
  archive(pickup: Pickup): Promise<void>;
}

/** The pickup's keyed hashing, and the making of PINs (their hash given with them). */
export interface PickupActorCrypto extends PickupCrypto {
  pinHash(pin: string, pickupId: string, serial: number): string;
  generatePin(): string;
}

const compartmentReport = { compartmentId: z.string(), opId: z.string(), purpose: purposeSchema, pickupId: z.string() };
const staff = { reference: z.string(), by: z.string(), ...request };

/**
 * An `allocate` or `unlock` about a pickup reached an actor that failed for good, or whose handler
 * crashed on it (`crashed`), and took no effect: the supervisor sends it back. `message` is the one sent.
 */
export const deliveryFailedSchema = z.object({
  type: z.literal('delivery.failed'),
  to: z.string(),
  messageType: z.string(),
  crashed: z.boolean().optional(),
  message: z.object({ pickupId: z.string().nullable().optional(), opId: z.string().optional(), purpose: purposeSchema.optional() }).optional(),
});

/** Everything a pickup takes, as a runtime schema: each message names the pickup (its partition in the registry). */
export const PickupMessage = z.discriminatedUnion('type', [
  // staff and the integration, by reference (the registry finds the pickup and passes the request on)
  z.object({ type: z.literal('pickup.cancel'), ...staff }),
  z.object({ type: z.literal('pickup.load'), ...staff }),
  z.object({ type: z.literal('pickup.retrieve'), ...staff }),
  z.object({ type: z.literal('pickup.reissuePin'), ...staff }),
  // its own I/O and timers
  z.object({ type: z.literal('pin.generated'), pickupId: z.string(), serial: z.number(), pin: z.string(), pinHash: z.string() }),
  z.object({ type: z.literal('pin.claimed'), pickupId: z.string(), opId: z.string(), ok: z.boolean(), failed: z.literal('STORAGE_UNAVAILABLE').optional() }),
  z.object({ type: z.literal('pickup.archived'), pickupId: z.string() }),
  z.object({ type: z.literal('pickup.remind'), pickupId: z.string() }),
  z.object({ type: z.literal('pickup.expire'), pickupId: z.string() }),
  z.object({ type: z.literal('pickup.purge'), pickupId: z.string() }),
  // the outbox
  pinQueuedSchema,
  z.object({ type: z.literal('sms.missing'), ids: z.array(z.string()), pickupId: z.string() }),
  // the allocation actor
  z.object({ type: z.literal('compartment.claimed'), pickupId: z.string(), compartmentId: z.string().nullable(), by: z.string(), failed: z.literal('STORAGE_UNAVAILABLE').optional(), ...request }),
  z.object({ type: z.literal('load.abandoned'), pickupId: z.string() }),
  z.object({ type: z.literal('occupancy.check'), compartmentId: z.string(), reported: z.string().nullable(), pickupId: z.string() }),
  // the auth actor
  z.object({ type: z.literal('pin.matched'), sessionId: z.string(), kioskId: z.string(), pickupId: z.string(), serial: z.number() }),
  z.object({ type: z.literal('door.matched'), kioskId: z.string(), pickupId: z.string(), serial: z.number(), ...request }),
  z.object({ type: z.literal('pin.missed'), kioskId: z.string(), pickupId: z.string(), serial: z.number() }),
  z.object({ type: z.literal('pin.resendFor'), kioskId: z.string(), pickupId: z.string() }),
  z.object({ type: z.literal('credential.missing'), pickupId: z.string(), serial: z.number() }),
  z.object({ type: z.literal('session.ended'), sessionId: z.string(), pickupId: z.string() }),
  // the session its PIN opened
  z.object({ type: z.literal('auth.oldDocument'), sessionId: z.string(), documentNumber: z.string(), pickupId: z.string() }),
  z.object({ type: z.literal('auth.birthDate'), sessionId: z.string(), birthDate: z.string(), pickupId: z.string() }),
  z.object({ type: z.literal('pickup.release'), sessionId: z.string(), pickupId: z.string() }),
  // its compartment
  z.object({ type: z.literal('compartment.opened'), ...compartmentReport }),
  z.object({ type: z.literal('compartment.closed'), ...compartmentReport }),
  z.object({ type: z.literal('compartment.notOpened'), ...compartmentReport }),
  z.object({ type: z.literal('compartment.unlockFailed'), ...compartmentReport, code: errorCode }),
  deliveryFailedSchema,
  // catch-ups, told by the registry, which names the pickups to the peer first
  /** the auth actor is back: the pickup says which PIN it should hold */
  z.object({ type: z.literal('auth.restarted') }),
  /** a new auth actor (its state lost or reset): the PIN it held is gone */
  z.object({ type: z.literal('auth.started') }),
  /** the outbox is back: the pickup names its PIN message not heard confirmed, and sends its notices again */
  z.object({ type: z.literal('outbox.restarted') }),
  /** the allocation actor is back: the pickup says which compartment it is in */
  z.object({ type: z.literal('allocation.started') }),
  /** after a process restart: what the stop cut short is finished or undone */
  z.object({ type: z.literal('recovered') }),
  /** spawned: the timers its row implies are set (none for a pickup just registered) */
  z.object({ type: z.literal('started') }),
  /**
   * Restarted after a crash (`code`: nothing to catch up), or revived by staff after it failed for
   * good: what it was told meanwhile was refused, so it reconciles as after a restart and tells the
   * auth actor, the allocation actor and the outbox what it holds now (each answer is idempotent).
   */
  z.object({ type: z.literal('restarted'), code: errorCode.optional() }),
]);
export type PickupEvent = z.infer<typeof PickupMessage>;

/**
 * The I/O of a pickup's changes, run by its actor (and by the registry for the rows an earlier
 * version left in its table): a PIN made (with its hash), a PIN's single use claimed or given
 * back, the ended row archived.
 */
export function pickupIo(crypto: PickupActorCrypto, claims: PickupClaims, archive: PickupArchive) {
  return async (op: PickupIo) => {
    switch (op.kind) {
      case 'issuePin': {
        const pin = crypto.generatePin();
        return { type: 'pin.generated' as const, pickupId: op.pickupId, serial: op.serial, pin, pinHash: crypto.pinHash(pin, op.pickupId, op.serial) };
      }
      case 'claimPin':
        try {
          return { type: 'pin.claimed' as const, pickupId: op.pickupId, opId: op.opId, ok: await claims.claimOnce(op.key, op.owner) };
        } catch (error) {
          // The store could not be asked (disk full, Redis down: STORAGE_UNAVAILABLE): the session
          // waiting for its door is told so rather than held until storage returns. Anything else
          // is a crash.
          if ((error as { code?: unknown } | null)?.code !== 'STORAGE_UNAVAILABLE') throw error;
          return { type: 'pin.claimed' as const, pickupId: op.pickupId, opId: op.opId, ok: false, failed: 'STORAGE_UNAVAILABLE' as const };
        }
      case 'releasePin':
        await claims.release(op.key, op.owner);
        return;
      // Refused by storage: parked by the supervisor like a release, so the pickup leaves once
      // storage is back, not only at the next start.
      case 'archive':
        await archive.archive(op.pickup);
        return { type: 'pickup.archived' as const, pickupId: op.pickup.id };
    }
  };
}

/**
 * The handlers, each first checking that the row names its pickup (an id, a reference and a
 * status, as text): a row damaged there (a hand repair gone wrong) crashes every message about it,
 * so its actor fails alone and the pickup is refused (PICKUP_FAILED), instead of sending messages
 * that name no pickup or the wrong one.
 */
function sound<H extends Record<string, (p: Pickup, ...rest: any[]) => unknown>>(handlers: H): H {
  const checked: Record<string, (p: Pickup, ...rest: any[]) => unknown> = {};
  for (const [type, handler] of Object.entries(handlers)) {
    checked[type] = (p, ...rest) => {
      checkRow(p);
      return handler(p, ...rest);
    };
  }
  return checked as H;
}
function checkRow(p: Pickup): void {
  if (typeof p.id !== 'string' || typeof p.reference !== 'string' || typeof p.status !== 'string') throw new TypeError(`a damaged pickup row (id ${String(p.id)}, reference ${String(p.reference)}): it names no pickup`);
}

export function pickupActor(policy: PickupPolicy, crypto: PickupActorCrypto, claims: PickupClaims, archive: PickupArchive) {
  type Enq = BoxEnqueue<Pickup, PickupIo>;
  const life = pickupLife(policy, crypto);
  const io = pickupIo(crypto, claims, archive);
  /** What the pickup's life needs of the actor: the time, the effects, and freeing a compartment at the allocation actor. */
  const step = (now: number, enq: Enq): Step => ({
    now,
    enq,
    free: (compartmentId, owner) => enq.emit.send({ to: ALLOCATION, message: { type: 'free', compartmentId, owner } }),
  });
  /** A load cut short (by a restart, or while the actor had failed): whatever the allocation actor may have won for it goes back. */
  const loadCut = (p: Pickup, enq: Enq) => () => enq.emit.send({ to: ALLOCATION, message: { type: 'abandon', owner: p.reference } });
  return defineActor<Pickup, PickupEvent, PickupIo, BoxOutgoing>({
    kind: 'pickup',
    messages: PickupMessage,
    // Failed for good, it is this one pickup that cannot be handed out: staff hand it out at the counter.
    failedCode: 'PICKUP_FAILED',
    // Archived, it stops and its record goes: the archive keeps the pickup, the registry its reference.
    forgottenWhenStopped: true,
    // Spawned with its row, made by the registry when it registered the pickup.
    init: (input: { row: Pickup }) => input.row,
    on: {
      ...sound({
        'pickup.cancel': (p, e, enq) => life.cancel(p, e, step(e.now, enq)),
        'pickup.load': (p, e, enq) => life.load(p, e, step(e.now, enq)),
        'pickup.retrieve': (p, e, enq) => life.retrieve(p, e, step(e.now, enq)),
        'pickup.reissuePin': (p, e, enq) => life.reissuePin(p, e, step(e.now, enq)),
        'compartment.claimed': (p, e, enq) => life.compartmentClaimed(p, e, step(e.now, enq)),
        'pin.generated': (p, e, enq) => life.pinGenerated(p, e, step(e.now, enq)),
        'pin.queued': (p, e, enq) => life.pinQueued(p, e.serial, step(e.now, enq)),
        'pin.claimed': (p, e, enq) => life.pinClaimed(p, e, step(e.now, enq)),
        'pin.matched': (p, e, enq) => life.pinMatched(p, e, false, step(e.now, enq)),
        'door.matched': (ctx, e, enq) => life.doorMatched(ctx, e, false, step(e.now, enq)),
        // (Audited as not counted when the PIN was renewed or held meanwhile.)
        'pin.missed': (ctx, e, enq) => {
          const next = life.pinMissed(ctx, e.serial, step(e.now, enq));
          if (!next) enq.emit.audit({ entry: { action: 'pin.notCounted', actor: e.kioskId, subject: ctx.reference, detail: { factor: 'pin' } } });
          return next;
        },
        'pin.resendFor': (p, e, enq) => life.resend(p, e.kioskId, step(e.now, enq)),
        'credential.missing': (p, e, enq) => life.credentialMissing(p, e.serial, step(e.now, enq)),
        'sms.missing': (p, e, enq) => life.smsMissing(p, new Set(e.ids), step(e.now, enq)),
        'session.ended': (p, e, enq) => (p.claim?.sessionId === e.sessionId ? life.sessionEnded(p, step(e.now, enq)) : undefined),
        'auth.oldDocument': (p, e, enq) => life.secondFactor(p, e.sessionId, 'oldId', givenDocumentNumber(e.documentNumber), step(e.now, enq)),
        'auth.birthDate': (p, e, enq) => life.secondFactor(p, e.sessionId, 'birthDate', e.birthDate, step(e.now, enq)),
        'pickup.release': (p, e, enq) => life.release(claimedBy(p, e.sessionId, e.now) ? p : undefined, e.sessionId, step(e.now, enq)),
        'compartment.opened': (p, e, enq) => life.opened(p, e, step(e.now, enq)),
        'compartment.closed': (p, e, enq) => (e.purpose === 'load' ? life.loaded(p, e, step(e.now, enq)) : e.purpose === 'service' ? undefined : life.closedAfterOpening(p, e, step(e.now, enq))),
        'compartment.notOpened': (p, e, enq) => life.notOpened(p, e, step(e.now, enq)),
        'compartment.unlockFailed': (p, e, enq) => (p.opId === e.opId ? life.unlockRefused(p, e.purpose, e.compartmentId, step(e.now, enq)) : undefined),
        'occupancy.check': (ctx, e, enq) => life.occupancyCheck(ctx, e, step(e.now, enq)),
        'load.abandoned': (ctx, e, enq) => life.loadAbandoned(ctx, step(e.now, enq)),
        'delivery.failed': (p, e, enq) => life.deliveryFailed(p, e, step(e.now, enq)),
        'pickup.remind': (p, e, enq) => life.remind(p, step(e.now, enq)),
        'pickup.expire': (p, e, enq) => life.expire(p, step(e.now, enq)),
        'pickup.purge': (p, e, enq) => life.purge(p, step(e.now, enq)),
        // Archived: readers drop it, the registry keeps its reference (never registered twice), the actor stops.
        'pickup.archived': (ctx, _e, enq) => {
          enq.emit.publish({ event: pickupRowEvent(ctx.id, null) });
          enq.emit.send({ to: REGISTRY, message: { type: 'pickup.archived', pickupId: ctx.id } });
          enq.emit.stop({});
        },
        'auth.restarted': (ctx, e, enq) => life.expectCredential(ctx, step(e.now, enq)),
        'auth.started': (p, e, enq) => life.authLost(p, step(e.now, enq)),
        'outbox.restarted': (ctx, e, enq) => life.outboxBack(ctx, step(e.now, enq)),
        'allocation.started': (ctx, e, enq) => life.expectSlot(ctx, step(e.now, enq)),
        // A row made elsewhere keeps its dates (see the life's timersOf); a new pickup has none.
        started: (p, e, enq) => life.timersOf(p, step(e.now, enq)),
        // (Interrupted while winning a compartment: the allocation actor gives back whatever it may have won.)
        recovered: (p, e, enq) => life.recover(p, step(e.now, enq), loadCut(p, enq)),
      }),
      // (Outside `sound`: the notice of a restart after a crash does nothing, and is no crash of its own.)
      restarted: (p, e, enq) => {
        if (e.code !== undefined) return;
        checkRow(p);
        const s = step(e.now, enq);
        // Revived by staff: what came for it while it had failed was refused — the compartment won
        // for its load, the PIN made for it, its PIN claim's or its archive's outcome — as if the
        // process had stopped there. So it reconciles as after a restart (a load given back and
        // started over, a PIN made again, a release with no unlock sent undone, its session told),
        // then tells the auth actor, the allocation actor and the outbox what it holds now: their
        // catch-ups were refused too.
        const row = life.recover(p, s, loadCut(p, enq), true);
        const now = row ?? p;
        life.expectCredential(now, s);
        life.expectSlot(now, s);
        // (The notices recover may have sent again go under their ids: the outbox drops a repeat.)
        life.outboxBack(now, s);
        return row;
      },
    },
    io: (op) => io(op),
  });
}
