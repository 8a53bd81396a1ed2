import type { BoxEnqueue, BoxOutgoing } from './protocol.js';
import type { SessionEvent } from './session.js';
import { z } from 'zod';
import { refuse } from './runtime/ask.js';
import { defineActor } from './runtime/define.js';
import { deleteRow, rowsWhere, setRow, type RowIndex } from './runtime/table.js';
import { REGISTRY, errorCode, pickupAddress, pickupKnownBy, request, sessionAddress } from './messages.js';

/**
 * The auth actor checks what a citizen types at a panel against the PINs of the pickups in the
 * box, and holds back whoever guesses. It owns three things and nothing else:
 *
 * - the **credentials**: for every pickup whose PIN is live (READY, or being released), the keyed
 *   hash of its number, the PIN's serial and the PIN's keyed hash. The registry hands each one over
 *   when the PIN is made (`credential.set`) and takes it back when the PIN dies (`credential.drop`);
 *   no other actor holds a PIN hash.
 * - the **throttles**: a leaky bucket of failures per number (by keyed hash, so counters exist for
 *   numbers that are not in the box, without storing them) and per panel.
 * - the **fixed-work PIN check**: the same keyed hashes and comparisons whether the number has no
 *   pickup, one or several, so timing tells neither existence nor count.
 *
 * What a match means for the pickup (claimed by this session, busy with another, locked meanwhile)
 * is the registry's to decide: a match goes to it as `pin.matched`, and failures on known pickups
 * as `pin.missed`, which it counts toward their lock. A PIN check never waits behind the registry's
 * other work (an integration registering thousands of pickups), and a crash in it fails this actor,
 * not the registry.
 */

/**
 * A leaky bucket of failures: `failures` is the level at `at` and leaks by one every
 * `throttleForgiveMs`, so a panel or number returns to normal after an attack stops.
 */
export interface Throttle {
  failures: number;
  until: number;
  /** when `failures` was last set (older stored throttles lack it: no leak credited before now) */
  at?: number;
}

/** A live PIN of a pickup, as the auth actor holds it. */
export interface Credential {
  pickupId: string;
  /** the keyed hash of the pickup's number (never the number) */
  numberKey: string;
  serial: number;
  pinHash: string;
  /** the pickup is being released: no guess is compared with its PIN until it is READY again */
  held?: true;
}

export interface AuthCtx {
  /** by pickup id */
  credentials: Record<string, Credential>;
  /** keyed by a keyed hash of the number */
  numberThrottles: Record<string, Throttle>;
  kioskThrottles: Record<string, Throttle>;
}

export interface AuthPolicy {
  /** failures per number or kiosk before delays start */
  throttleFree: number;
  throttleBaseMs: number;
  throttleMaxMs: number;
  /** one failure is forgiven per this much time without failures (leaky bucket) */
  throttleForgiveMs: number;
}

/** Keyed hashing supplied by the composition root; deterministic, so handlers stay pure. */
export interface AuthCrypto {
  pinHash(pin: string, pickupId: string, serial: number): string;
  numberKey(phone: string): string;
  equal(a: string, b: string): boolean;
}

const throttleSchema = z.object({ failures: z.number(), until: z.number(), at: z.number().optional() });

/** Everything the auth actor takes, as a runtime schema. */
export const AuthMessage = z.discriminatedUnion('type', [
  /** a session's PIN attempt */
  z.object({ type: z.literal('auth.pin'), sessionId: z.string(), kioskId: z.string(), phone: z.string(), pin: z.string() }),
  /** "I have not received an SMS" at a panel */
  z.object({ type: z.literal('pin.resend'), sessionId: z.string(), kioskId: z.string(), phone: z.string() }),
  /** the after-hours room's outside panel (asked by the API) */
  z.object({ type: z.literal('auth.doorPin'), kioskId: z.string(), phone: z.string(), pin: z.string(), ...request }),
  z.object({ type: z.literal('credential.set'), pickupId: z.string(), numberKey: z.string(), serial: z.number(), pinHash: z.string() }),
  z.object({ type: z.literal('credential.drop'), pickupId: z.string() }),
  z.object({ type: z.literal('credential.hold'), pickupId: z.string() }),
  z.object({ type: z.literal('credential.resume'), pickupId: z.string() }),
  /**
   * A session ended: passed on to the pickup its PIN matched, behind that match. `claim` false:
   * its PIN opened nothing (absent from a session of an earlier version: it may have). `pickupId`:
   * the pickup the session knows it holds, if any.
   */
  z.object({ type: z.literal('session.ended'), sessionId: z.string(), claim: z.boolean().optional(), pickupId: z.string().optional() }),
  /**
   * A match told to a pickup whose actor failed for good (or crashed on it) came back: the panel
   * hears at once that the pickup is refused (staff hand it out at the counter), not after its time-out.
   */
  z.object({ type: z.literal('delivery.failed'), to: z.string(), messageType: z.string(), crashed: z.boolean().optional(), message: z.object({ sessionId: z.string().optional() }).optional() }),

  /** state of a registry saved before this actor existed, handed over once (see the registry's `auth.started`) */
  z.object({
    type: z.literal('auth.adopt'),
    credentials: z.array(z.object({ pickupId: z.string(), numberKey: z.string(), serial: z.number(), pinHash: z.string() })),
    numberThrottles: z.record(z.string(), throttleSchema),
    kioskThrottles: z.record(z.string(), throttleSchema),
  }),
  /**
   * The catch-up after `auth.restarted`, pickup by pickup (each sent after every `credential.*` of
   * its pickup before it). First `credential.live`: the pickups that may hold a PIN; a credential
   * of any other pickup known by then (its id's number at most `upTo`; ids made later are not
   * named yet) is dropped. Then one `credential.expect` per pickup: its PIN (`pin`: serial, held
   * aside or not; null: none), fixed here, or named back as `credential.missing` when this actor
   * lacks it. `credentials`: the whole list in one message, as an earlier version's registry sent it.
   */
  z.object({ type: z.literal('credential.live'), pickupIds: z.array(z.string()), upTo: z.number() }),
  z
    .object({
      type: z.literal('credential.expect'),
      pickupId: z.string().optional(),
      pin: z.object({ serial: z.number(), held: z.boolean() }).nullable().optional(),
      credentials: z.array(z.object({ pickupId: z.string(), serial: z.number(), held: z.boolean() })).optional(),
    })
    .refine((m) => (m.credentials === undefined ? m.pickupId !== undefined && m.pin !== undefined : m.pickupId === undefined && m.pin === undefined), {
      message: 'names one pickup (pickupId and pin), or every PIN (credentials) as an earlier version did',
    }),
  z.object({ type: z.literal('started') }),
  /** restarted by the supervisor after a crash, or revived by staff after it failed for good */
  z.object({ type: z.literal('restarted'), code: errorCode.optional() }),
]);
export type AuthEvent = z.infer<typeof AuthMessage>;

/** Compared against to pad a PIN check, so that every attempt does the same work. */
const UNKNOWN_NUMBER_HASH = '0'.repeat(64);
/** Keyed hashes per PIN attempt at least: more live pickups on one number than this are rare. */
const PIN_CHECKS_PER_ATTEMPT = 4;

/** The credentials of a number, without a scan: carried along by every change of the table (table.ts). */
const BY_NUMBER: RowIndex<Credential> = { name: 'number', keyOf: (c) => c.numberKey };

/** The failure level of a throttle at `now`: one failure leaks away per `forgiveMs`. */
export function throttleLevel(t: Throttle | undefined, now: number, forgiveMs: number): number {
  if (!t) return 0;
  const leaked = forgiveMs > 0 ? Math.max(0, now - (t.at ?? now)) / forgiveMs : 0;
  return Math.max(0, t.failures - leaked);
}

export function authActor(policy: AuthPolicy, crypto: AuthCrypto) {
  type Enq = BoxEnqueue<AuthCtx>;
  const toSession = (enq: Enq, sessionId: string, message: SessionEvent) => enq.emit.send({ to: sessionAddress(sessionId), message });

  /** Until when the number's or the kiosk's throttle refuses attempts (0: not throttled). */
  const throttledUntil = (ctx: AuthCtx, numberKey: string, kioskId: string): number =>
    Math.max(ctx.numberThrottles[numberKey]?.until ?? 0, ctx.kioskThrottles[kioskId]?.until ?? 0);

  /**
   * When the number's or the panel's bucket says wait: the time to wait for, audited (the caller
   * answers it; nothing is checked). Null when the attempt may be checked.
   */
  const throttled = (ctx: AuthCtx, numberKey: string, e: { kioskId: string; now: number }, enq: Enq, detail: { door?: true } = {}): number | null => {
    const retryAt = throttledUntil(ctx, numberKey, e.kioskId);
    if (retryAt <= e.now) return null;
    enq.emit.audit({ entry: { action: 'auth.throttled', actor: e.kioskId, detail: { retryAt, ...detail } } });
    return retryAt;
  };

  /** One more failure on a leaky bucket: what leaked since the last one is forgiven first. */
  const bump = (t: Throttle | undefined, now: number): Throttle => {
    const failures = throttleLevel(t, now, policy.throttleForgiveMs) + 1;
    const over = Math.ceil(failures) - policy.throttleFree;
    const delay = over > 0 ? Math.min(policy.throttleBaseMs * 2 ** (over - 1), policy.throttleMaxMs) : 0;
    return { failures, until: delay > 0 ? now + delay : 0, at: now };
  };
  /** One failure on the number's and on the kiosk's bucket; `retryAt` is when they let the next one through. */
  const counted = (ctx: AuthCtx, numberKey: string, kioskId: string, now: number): { ctx: AuthCtx; retryAt: number | null } => {
    const n = bump(ctx.numberThrottles[numberKey], now);
    const k = bump(ctx.kioskThrottles[kioskId], now);
    return {
      ctx: { ...ctx, numberThrottles: setRow(ctx.numberThrottles, numberKey, n), kioskThrottles: setRow(ctx.kioskThrottles, kioskId, k) },
      retryAt: Math.max(n.until, k.until) || null,
    };
  };

  /** Of two buckets of one number or panel, the one holding more failures now (and the later wait). */
  const fuller = (mine: Throttle | undefined, theirs: Throttle, now: number): Throttle => {
    if (!mine) return theirs;
    const keep = throttleLevel(mine, now, policy.throttleForgiveMs) >= throttleLevel(theirs, now, policy.throttleForgiveMs) ? mine : theirs;
    return { ...keep, until: Math.max(mine.until, theirs.until) };
  };

  /** The number's bucket emptied (nothing changes, and nothing is written, when it has none). */
  const forgiven = (ctx: AuthCtx, numberKey: string): AuthCtx | undefined =>
    ctx.numberThrottles[numberKey] ? { ...ctx, numberThrottles: deleteRow(ctx.numberThrottles, numberKey) } : undefined;

  /** The number's credentials a PIN may match: a pickup being released is none (a guess learns nothing of it). */
  const liveOf = (ctx: AuthCtx, numberKey: string): Credential[] => rowsWhere(ctx.credentials, BY_NUMBER, numberKey).filter((c) => !c.held);

  /**
   * The pickup of the number whose PIN was typed, if any. No early exit: every credential of the
   * number is compared in constant time, and the work is padded to a fixed amount.
   */
  const matchPin = (ctx: AuthCtx, numberKey: string, pin: string) => {
    const candidates = liveOf(ctx, numberKey);
    let match: Credential | undefined;
    for (const c of candidates) if (crypto.equal(crypto.pinHash(pin, c.pickupId, c.serial), c.pinHash) && !match) match = c;
    for (let i = candidates.length; i < PIN_CHECKS_PER_ATTEMPT; i++) crypto.equal(crypto.pinHash(pin, 'none', i), UNKNOWN_NUMBER_HASH);
    return { candidates, match };
  };

  return defineActor<AuthCtx, AuthEvent, never, BoxOutgoing>({
    kind: 'auth',
    // A match refused comes back, and the panel is answered from here: refused by a failed pickup
    // actor, or by the failed registry that a pickup of an earlier version lives in (the bounce
    // names the actor that refused).
    answersBounces: (_to, type) => type === 'pin.matched',
    messages: AuthMessage,
    // A PIN attempt waits on this actor: its commits go first.
    interactive: true,
    tables: ['credentials', 'numberThrottles', 'kioskThrottles'],
    init: () => ({ credentials: {}, numberThrottles: {}, kioskThrottles: {} }),
    on: {
      // A new auth actor beside a registry that may hold PIN hashes and throttles saved before it existed.
      started: (_ctx, _e, enq) => void enq.emit.send({ to: REGISTRY, message: { type: 'auth.started' } }),

      // Back after a crash, or revived after it failed for good: what the registry sent meanwhile
      // was refused (a PIN made then, one taken back). The registry says which PINs it has made.
      restarted: (_ctx, _e, enq) => void enq.emit.send({ to: REGISTRY, message: { type: 'auth.restarted' } }),

      /** A credential of a pickup neither named nor made since (see the schema) is dropped. */
      'credential.live': (ctx, e) => {
        const live = new Set(e.pickupIds);
        let credentials = ctx.credentials;
        for (const id of Object.keys(ctx.credentials)) if (!live.has(id) && pickupKnownBy(id, e.upTo)) credentials = deleteRow(credentials, id);
        return credentials === ctx.credentials ? undefined : { ...ctx, credentials };
      },

      /**
       * A pickup's PIN (sent after every `credential.*` of it before, so none in flight is missed):
       * a credential of another serial, or of a pickup without a PIN, is dropped; one being
       * released is held aside, or live again; one never handed over goes back to the pickup,
       * which gets a new PIN (the one the citizen has cannot open: its hash is gone). An earlier
       * version's registry sent every PIN in one list: what this actor holds beyond them goes.
       */
      'credential.expect': (ctx, e, enq) => {
        const expected = e.credentials ?? (e.pin ? [{ pickupId: e.pickupId!, ...e.pin }] : []);
        const expectedOf = new Map(expected.map((c) => [c.pickupId, c]));
        // The credentials checked: the pickup's own, or (a whole list) every one held.
        const checked = e.credentials ? Object.values(ctx.credentials) : [ctx.credentials[e.pickupId!]].filter((c) => c !== undefined);
        let credentials = ctx.credentials;
        for (const c of checked) {
          const x = expectedOf.get(c.pickupId);
          if (!x || x.serial !== c.serial) credentials = deleteRow(credentials, c.pickupId);
          else if (x.held && !c.held) credentials = setRow(credentials, c.pickupId, { ...c, held: true });
          else if (!x.held && c.held) {
            const { held: _held, ...live } = c;
            credentials = setRow(credentials, c.pickupId, live);
          }
        }
        const missing = expected.filter((x) => credentials[x.pickupId]?.serial !== x.serial).map(({ pickupId, serial }) => ({ pickupId, serial }));
        if (e.credentials) {
          if (missing.length > 0) enq.emit.send({ to: REGISTRY, message: { type: 'credential.missing', pickups: missing } });
        } else for (const { pickupId, serial } of missing) enq.emit.send({ to: pickupAddress(pickupId), message: { type: 'credential.missing', pickupId, serial } });
        return credentials === ctx.credentials ? undefined : { ...ctx, credentials };
      },

      'auth.adopt': (ctx, e) => {
        let next = ctx;
        for (const c of e.credentials) next = { ...next, credentials: setRow(next.credentials, c.pickupId, c) };
        // Failures counted here since this actor started are not forgotten: the fuller bucket wins.
        for (const [k, t] of Object.entries(e.numberThrottles)) next = { ...next, numberThrottles: setRow(next.numberThrottles, k, fuller(next.numberThrottles[k], t, e.now)) };
        for (const [k, t] of Object.entries(e.kioskThrottles)) next = { ...next, kioskThrottles: setRow(next.kioskThrottles, k, fuller(next.kioskThrottles[k], t, e.now)) };
        return next;
      },

      'credential.set': (ctx, e) => ({ ...ctx, credentials: setRow(ctx.credentials, e.pickupId, { pickupId: e.pickupId, numberKey: e.numberKey, serial: e.serial, pinHash: e.pinHash }) }),

      'credential.drop': (ctx, e) => (ctx.credentials[e.pickupId] ? { ...ctx, credentials: deleteRow(ctx.credentials, e.pickupId) } : undefined),

      'credential.hold': (ctx, e) => {
        const c = ctx.credentials[e.pickupId];
        return c && !c.held ? { ...ctx, credentials: setRow(ctx.credentials, e.pickupId, { ...c, held: true }) } : undefined;
      },

      'credential.resume': (ctx, e) => {
        const c = ctx.credentials[e.pickupId];
        if (!c?.held) return;
        const { held: _held, ...live } = c;
        return { ...ctx, credentials: setRow(ctx.credentials, e.pickupId, live) };
      },

      // The session's PIN came this way: its end follows the same way, so the pickup never hears
      // of the end before the match (a claim for a session that is gone). To the pickup the
      // session names (its PIN opened it); a session whose PIN was still being checked names none:
      // the registry finds the pickup it holds a claim on (and the session, should the match come
      // after its end, tells that pickup itself). A session whose PIN opened nothing gives nothing back.
      'session.ended': (_ctx, e, enq) => {
        if (e.claim === false) return;
        if (e.pickupId !== undefined) enq.emit.send({ to: pickupAddress(e.pickupId), message: { type: 'session.ended', sessionId: e.sessionId, pickupId: e.pickupId }, aside: true });
        else enq.emit.send({ to: REGISTRY, message: { type: 'session.ended', sessionId: e.sessionId }, aside: true });
      },

      'delivery.failed': (_ctx, e, enq) => {
        if (e.messageType === 'pin.matched' && e.message?.sessionId !== undefined) toSession(enq, e.message.sessionId, { type: 'auth.busy', code: 'PICKUP_FAILED' });
      },

      'auth.pin': (ctx, e, enq) => {
        // Same work, same answer, for an unknown number and a wrong PIN.
        const numberKey = crypto.numberKey(e.phone);
        const wait = throttled(ctx, numberKey, e, enq);
        if (wait !== null) return void toSession(enq, e.sessionId, { type: 'auth.throttled', retryAt: wait });
        const { candidates, match } = matchPin(ctx, numberKey, e.pin);
        if (match) {
          // Whoever knows the PIN is no guesser: the number's bucket empties. Whether the pickup is
          // free to claim is the registry's answer to the session.
          enq.emit.send({ to: pickupAddress(match.pickupId), message: { type: 'pin.matched', sessionId: e.sessionId, kioskId: e.kioskId, pickupId: match.pickupId, serial: match.serial } });
          // (No state of its own changes but the number's bucket: the match goes on without waiting for the disk.)
          return forgiven(ctx, numberKey);
        }
        const failed = counted(ctx, numberKey, e.kioskId, e.now);
        missed(enq, candidates, e.kioskId, {});
        toSession(enq, e.sessionId, { type: 'auth.rejected', retryAt: failed.retryAt });
        return failed.ctx;
      },

      /**
       * The after-hours room's outside panel: number and PIN of a live pickup open the room door.
       * Checked as at the kiosk (same throttles, same constant work, failures count toward the
       * pickup's limit), but nothing is claimed and the PIN stays valid for the pickup inside. The
       * registry answers a match (it knows whether the pickup can be handed out).
       */
      'auth.doorPin': (ctx, e, enq) => {
        const numberKey = crypto.numberKey(e.phone);
        const wait = throttled(ctx, numberKey, e, enq, { door: true });
        if (wait !== null) return void enq.emit.send(refuse(e, 'AUTH_THROTTLED', 'Too many attempts: wait', { retryAt: wait }));
        const { candidates, match } = matchPin(ctx, numberKey, e.pin);
        if (match) {
          enq.emit.send({ to: pickupAddress(match.pickupId), message: { type: 'door.matched', kioskId: e.kioskId, pickupId: match.pickupId, serial: match.serial, requestId: e.requestId, replyTo: e.replyTo } });
          return forgiven(ctx, numberKey);
        }
        const failed = counted(ctx, numberKey, e.kioskId, e.now);
        missed(enq, candidates, e.kioskId, { door: true });
        enq.emit.send(refuse(e, 'AUTH_FAILED', 'Number and PIN do not match a pickup in the box', { retryAt: failed.retryAt }));
        return failed.ctx;
      },

      /**
       * "I have not received an SMS": the panel's answer is the same whether any pickup exists (no
       * enumeration), and every request counts on the number's and the kiosk's throttle like a PIN
       * attempt. The registry renews the PINs of the number's pickups within their daily budget.
       */
      'pin.resend': (ctx, e, enq) => {
        const numberKey = crypto.numberKey(e.phone);
        const wait = throttled(ctx, numberKey, e, enq);
        if (wait !== null) return void toSession(enq, e.sessionId, { type: 'auth.throttled', retryAt: wait });
        toSession(enq, e.sessionId, { type: 'pin.resendAnswered' });
        // The keyed hash names the number for staff who know it; the audit never holds it in clear.
        enq.emit.audit({ entry: { action: 'pin.resendRequested', actor: e.kioskId, detail: { number: numberKey.slice(0, 16) } } });
        // One message per pickup (each its own partition at the registry: one whose handling
        // crashes fails alone). Aside: the panel's answer is given, whatever becomes of these (see `missed`).
        for (const { pickupId } of liveOf(ctx, numberKey)) enq.emit.send({ to: pickupAddress(pickupId), message: { type: 'pin.resendFor', kioskId: e.kioskId, pickupId }, aside: true });
        return counted(ctx, numberKey, e.kioskId, e.now).ctx;
      },
    },
  });

  /**
   * A wrong PIN on a number with live pickups: the registry counts it on each toward its lock, one
   * message per pickup (each its own partition there: one whose handling crashes fails alone).
   * Sent aside: the panel's answer must not depend on it (a failed registry refusing it would
   * otherwise turn this number's AUTH_FAILED into ACTOR_FAILED, and tell it has a pickup).
   */
  function missed(enq: Enq, candidates: readonly Credential[], kioskId: string, detail: { door?: true }) {
    if (candidates.length === 0) return void enq.emit.audit({ entry: { action: 'auth.failed', actor: kioskId, detail: { factor: 'pin', ...detail } } });
    for (const { pickupId, serial } of candidates) enq.emit.send({ to: pickupAddress(pickupId), message: { type: 'pin.missed', kioskId, pickupId, serial }, aside: true });
  }
}

