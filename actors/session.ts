import type { BoxOutgoing, BoxEnqueue } from './protocol.js';
import { defineActor } from './runtime/define.js';
import type { DeepReadonly } from './runtime/readonly.js';
import { z } from 'zod';
import { READER, REGISTRY, errorCode, kioskAddress, maybeAsked } from './messages.js';
import { answer, refuse, type Request, type REPLIES } from './runtime/ask.js';
import { DomainError, type ErrorCode } from './domain/errors.js';
import { normalizeMobile } from './domain/phone.js';
import { parseBirthDate } from './domain/dates.js';
import { parseTd1 } from './domain/mrz.js';

/**
 * One citizen at the panel, from the first tap to the open door.
 *
 *   phone ─▶ pin ─▶ (checking) ─▶ factor ─▶ card ─▶ (card checking) ─▶ (shredding) ─▶ opening ─▶ done
 *                                     └────▶ birthDate ─▶ (birth date checking) ──────▶ opening ─▶ done
 *
 * Every wrong answer, timeout and device failure has its way out: back to a step with an error
 * code the panel can explain, or `done` with an outcome. 60 s without input ends the session.
 *
 * An input sent as a request (`ask`) is answered with the session's view once the session has
 * left its `checking*` step, so the panel learns the outcome of its own input; an input the
 * session does not take at its current step is refused with SESSION_WRONG_STEP, decided here,
 * on the session's own state, not by the caller on a copy that may be stale.
 */

export type SessionStep =
  | 'phone'
  | 'pin'
  | 'checkingPin'
  | 'factor'
  | 'card'
  | 'checkingCard'
  | 'shredding'
  | 'birthDate'
  | 'checkingBirthDate'
  | 'opening'
  | 'done';

export type SessionOutcome = 'collected' | 'doorNotOpened' | 'timeout' | 'cancelled' | 'locked' | 'failed' | 'interrupted';

export interface SessionCtx {
  id: string;
  kioskId: string;
  step: SessionStep;
  /** the number given at the panel; dropped when the session ends */
  phone: string | null;
  oldIdPossible: boolean;
  documentKind: string | null;
  compartmentId: string | null;
  /** the last problem, as a stable code for the panel to explain */
  error: ErrorCode | null;
  retryAt: number | null;
  pinRejections: number;
  outcome: SessionOutcome | null;
  startedAt: number;
  lastInputAt: number;
  /** the card is in the reader and must be given back if the session ends */
  cardInReader: boolean;
  /** inputs waiting for their answer until the session leaves its `checking*` step */
  waiting: Request[];
  /**
   * The verified old ID waits in the reader for the door: it is shredded only once the citizen
   * can take the new document, and given back if the session ends otherwise. Dropped at the end.
   */
  heldDocument?: string | null;
  /** headphones are plugged into the panel's jack: speech goes private (absent in older saved state) */
  headphones?: boolean;
}

/** What the panel sees of a session: no phone number, no document data. */
export interface SessionView {
  readonly id: string;
  readonly kioskId: string;
  readonly step: SessionStep;
  readonly error: ErrorCode | null;
  readonly retryAt: number | null;
  readonly oldIdPossible: boolean;
  readonly compartmentId: string | null;
  readonly outcome: SessionOutcome | null;
  /** headphones in the panel's jack: the page speaks privately, including masked entries */
  readonly headphones: boolean;
}

export function sessionView(ctx: DeepReadonly<SessionCtx>): SessionView {
  return {
    id: ctx.id,
    kioskId: ctx.kioskId,
    step: ctx.step,
    error: ctx.error,
    retryAt: ctx.retryAt,
    oldIdPossible: ctx.oldIdPossible,
    compartmentId: ctx.compartmentId,
    outcome: ctx.outcome,
    headphones: ctx.headphones ?? false,
  };
}

/** Steps in which the session waits for a check; an input's answer waits with it. */
const CHECKING: ReadonlySet<SessionStep> = new Set(['checkingPin', 'checkingCard', 'checkingBirthDate']);

/** An input is answered once its check is over: and, when it opens a door, once the door is known. */
const answerable = (ctx: SessionCtx): boolean => !CHECKING.has(ctx.step) && !(ctx.step === 'opening' && ctx.compartmentId === null);

/** An input, optionally sent as a request that wants the session's view as its answer. */
type Asked = { requestId?: string | undefined; replyTo?: typeof REPLIES | undefined };

const factor = z.enum(['oldId', 'birthDate']);

/** Everything a session takes, as a runtime schema. Inputs may be sent with `ask`: they are answered with the session's view. */
export const SessionMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started') }),
  z.object({ type: z.literal('input.phone'), phone: z.string(), ...maybeAsked }),
  z.object({ type: z.literal('input.pin'), pin: z.string(), ...maybeAsked }),
  z.object({ type: z.literal('input.factor'), factor, ...maybeAsked }),
  z.object({ type: z.literal('input.birthDate'), birthDate: z.string(), ...maybeAsked }),
  z.object({ type: z.literal('input.cancel'), ...maybeAsked }),
  z.object({ type: z.literal('auth.throttled'), retryAt: z.number() }),
  z.object({ type: z.literal('auth.rejected'), retryAt: z.number().nullable() }),
  z.object({ type: z.literal('auth.busy') }),
  z.object({ type: z.literal('auth.pinAccepted'), documentKind: z.string(), oldIdPossible: z.boolean() }),
  z.object({ type: z.literal('auth.factorAccepted'), factor, documentNumber: z.string().nullable() }),
  z.object({ type: z.literal('auth.factorRejected'), factor, locked: z.boolean(), code: errorCode }),
  z.object({ type: z.literal('card.read'), mrz: z.array(z.string()) }),
  z.object({ type: z.literal('card.unreadable'), code: errorCode }),
  z.object({ type: z.literal('card.unavailable') }),
  z.object({ type: z.literal('card.ejected') }),
  z.object({ type: z.literal('card.shredded') }),
  z.object({ type: z.literal('card.retained') }),
  z.object({ type: z.literal('release.started'), compartmentId: z.string() }),
  z.object({ type: z.literal('release.failed'), code: errorCode }),
  z.object({ type: z.literal('pickup.doorOpened'), compartmentId: z.string() }),
  z.object({ type: z.literal('pickup.doorNotOpened') }),
  z.object({ type: z.literal('timeout') }),
  z.object({ type: z.literal('linger.over') }),
  z.object({ type: z.literal('headphones'), plugged: z.boolean() }),
  z.object({ type: z.literal('recovered') }),
  z.object({ type: z.literal('restarted') }),
]);
export type SessionEvent = z.infer<typeof SessionMessage>;

export interface SessionPolicy {
  inactivityMs: number;
  /** how long the final screen stays before the session is gone */
  lingerMs: number;
  /** wrong number/PIN pairs one session may try before it ends */
  maxPinRejections: number;
  timeZone: string;
}

export interface SessionInput {
  id: string;
  kioskId: string;
  /** the panel's headphone jack when the session starts */
  headphones?: boolean;
}

export type SessionInputType = 'input.phone' | 'input.pin' | 'input.factor' | 'input.birthDate' | 'input.cancel';

/** What a session may be asked at each step; anything else is SESSION_WRONG_STEP. */
export const INPUT_STEPS: Record<SessionInputType, readonly SessionStep[]> = {
  'input.phone': ['phone'],
  'input.pin': ['pin'],
  'input.factor': ['factor'],
  'input.birthDate': ['birthDate'],
  'input.cancel': ['phone', 'pin', 'checkingPin', 'factor', 'card', 'checkingCard', 'birthDate', 'checkingBirthDate'],
};

export function sessionActor(policy: SessionPolicy) {
  type Enq = BoxEnqueue<SessionCtx, never>;

  /**
   * Publishes the session's new view and answers the inputs waiting for it, unless the session
   * is still checking: then the answer waits, and `asked` (the input just taken) waits with it.
   */
  const view = (ctx: SessionCtx, enq: Enq, asked?: Asked): SessionCtx => {
    const { id: sessionId, ...rest } = sessionView(ctx);
    enq.emit.publish({ event: { type: 'session.changed', sessionId, ...rest } });
    const waiting = asked?.requestId && asked.replyTo ? [...ctx.waiting, { requestId: asked.requestId, replyTo: asked.replyTo }] : ctx.waiting;
    if (!answerable(ctx)) return waiting === ctx.waiting ? ctx : { ...ctx, waiting };
    const answerWith = sessionView(ctx);
    for (const request of waiting) enq.emit.send(answer(request, answerWith));
    return waiting.length === 0 ? ctx : { ...ctx, waiting: [] };
  };
  /** Refuses an input the session does not take at its step; true when it was refused. */
  const refused = (ctx: SessionCtx, e: { type: SessionInputType } & Asked, enq: Enq): boolean => {
    if (INPUT_STEPS[e.type].includes(ctx.step)) return false;
    if (e.requestId && e.replyTo) {
      const request = { requestId: e.requestId, replyTo: e.replyTo };
      if (ctx.step === 'done') enq.emit.send(refuse(request, 'SESSION_NOT_FOUND', `session ${ctx.id} has ended`));
      else enq.emit.send(refuse(request, 'SESSION_WRONG_STEP', `session ${ctx.id} is at step ${ctx.step} and does not take ${e.type.slice('input.'.length)} now`, { step: ctx.step }));
    }
    return true;
  };
  const touch = (ctx: SessionCtx, now: number, enq: Enq): SessionCtx => {
    enq.emit.schedule({ key: 'timeout', at: now + policy.inactivityMs, message: { type: 'timeout' } });
    return { ...ctx, lastInputAt: now };
  };
  /** Ends the session: releases what it holds, tells the kiosk, and goes away after the final screen. */
  const finish = (ctx: SessionCtx, outcome: SessionOutcome, error: ErrorCode | null, now: number, enq: Enq, asked?: Asked): SessionCtx => {
    if (ctx.step === 'done') return ctx;
    if (ctx.cardInReader || ctx.step === 'card') enq.emit.send({ to: READER, message: { type: 'cancel', sessionId: ctx.id } });
    enq.emit.send({ to: REGISTRY, message: { type: 'session.ended', sessionId: ctx.id } });
    enq.emit.send({ to: kioskAddress(ctx.kioskId), message: { type: 'session.ended', sessionId: ctx.id } });
    enq.emit.cancel({ key: 'timeout' });
    enq.emit.schedule({ key: 'linger', at: now + policy.lingerMs, message: { type: 'linger.over' } });
    enq.emit.audit({ entry: { action: 'session.ended', actor: `kiosk/${ctx.kioskId}`, subject: ctx.id, detail: { outcome } } });
    return view({ ...ctx, step: 'done', outcome, error, phone: null, heldDocument: null, cardInReader: false }, enq, asked);
  };
  const release = (ctx: SessionCtx, enq: Enq): SessionCtx => {
    enq.emit.send({ to: REGISTRY, message: { type: 'pickup.release', sessionId: ctx.id } });
    return view({ ...ctx, step: 'opening', error: null }, enq);
  };
  const recover = (ctx: SessionCtx, e: { now: number }, enq: Enq) => finish(ctx, 'interrupted', 'INTERRUPTED', e.now, enq);

  return defineActor<SessionCtx, SessionEvent, never, BoxOutgoing>({
    kind: 'session',
    messages: SessionMessage,
    transient: true,
    init: (input: SessionInput) => ({
      id: input.id,
      kioskId: input.kioskId,
      step: 'phone',
      phone: null,
      oldIdPossible: false,
      documentKind: null,
      compartmentId: null,
      error: null,
      retryAt: null,
      pinRejections: 0,
      outcome: null,
      startedAt: 0,
      lastInputAt: 0,
      cardInReader: false,
      waiting: [],
      headphones: input.headphones ?? false,
    }),
    on: {
      started: (ctx, e, enq) => {
        enq.emit.audit({ entry: { action: 'session.started', actor: `kiosk/${ctx.kioskId}`, subject: ctx.id } });
        return view(touch({ ...ctx, startedAt: e.now }, e.now, enq), enq);
      },
      'input.phone': (ctx, e, enq) => {
        if (refused(ctx, e, enq)) return;
        try {
          const phone = normalizeMobile(e.phone);
          return view(touch({ ...ctx, step: 'pin', phone, error: null }, e.now, enq), enq, e);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          return view(touch({ ...ctx, error: error.code }, e.now, enq), enq, e);
        }
      },
      'input.pin': (ctx, e, enq) => {
        if (refused(ctx, e, enq) || !ctx.phone) return;
        if (!/^\d{6}$/.test(e.pin)) return view(touch({ ...ctx, error: 'INVALID_PIN_FORMAT' }, e.now, enq), enq, e);
        enq.emit.send({ to: REGISTRY, message: { type: 'auth.pin', sessionId: ctx.id, kioskId: ctx.kioskId, phone: ctx.phone, pin: e.pin } });
        return view(touch({ ...ctx, step: 'checkingPin', error: null }, e.now, enq), enq, e);
      },
      'auth.throttled': (ctx, e, enq) => {
        if (ctx.step !== 'checkingPin') return;
        return view({ ...ctx, step: 'phone', phone: null, error: 'AUTH_THROTTLED', retryAt: e.retryAt }, enq);
      },
      'auth.rejected': (ctx, e, enq) => {
        if (ctx.step !== 'checkingPin') return;
        const pinRejections = ctx.pinRejections + 1;
        if (pinRejections >= policy.maxPinRejections) return finish({ ...ctx, pinRejections }, 'failed', 'AUTH_FAILED', e.now, enq);
        // Back to the number: the panel must not tell whether the number or the PIN was wrong.
        return view({ ...ctx, step: 'phone', phone: null, error: 'AUTH_FAILED', retryAt: e.retryAt, pinRejections }, enq);
      },
      'auth.busy': (ctx, e, enq) => {
        if (ctx.step !== 'checkingPin') return;
        return finish(ctx, 'failed', 'PICKUP_BUSY', e.now, enq);
      },
      'auth.pinAccepted': (ctx, e, enq) => {
        if (ctx.step !== 'checkingPin') return;
        const step = e.oldIdPossible ? 'factor' : 'birthDate';
        return view({ ...ctx, step, documentKind: e.documentKind, oldIdPossible: e.oldIdPossible, error: null, retryAt: null }, enq);
      },
      'input.factor': (ctx, e, enq) => {
        if (refused(ctx, e, enq)) return;
        if (e.factor === 'oldId') {
          enq.emit.send({ to: READER, message: { type: 'accept', sessionId: ctx.id } });
          return view(touch({ ...ctx, step: 'card', error: null }, e.now, enq), enq, e);
        }
        return view(touch({ ...ctx, step: 'birthDate', error: null }, e.now, enq), enq, e);
      },
      'card.unavailable': (ctx, _e, enq) => {
        if (ctx.step !== 'card') return;
        // Reader or shredder out of order: the birth date is the other way.
        return view({ ...ctx, step: 'birthDate', oldIdPossible: false, error: 'CARD_UNAVAILABLE' }, enq);
      },
      'card.read': (ctx, e, enq) => {
        if (ctx.step !== 'card') return;
        let documentNumber: string | null = null;
        try {
          documentNumber = parseTd1(e.mrz, e.now, { timeZone: policy.timeZone }).documentNumber;
        } catch {
          documentNumber = null;
        }
        if (!documentNumber) {
          enq.emit.send({ to: READER, message: { type: 'verdict', sessionId: ctx.id, accepted: false, documentNumber: null } });
          return view(touch({ ...ctx, step: 'factor', error: 'INVALID_MRZ', cardInReader: true }, e.now, enq), enq);
        }
        enq.emit.send({ to: REGISTRY, message: { type: 'auth.oldDocument', sessionId: ctx.id, documentNumber } });
        return view(touch({ ...ctx, step: 'checkingCard', cardInReader: true }, e.now, enq), enq);
      },
      'card.unreadable': (ctx, e, enq) => {
        if (ctx.step !== 'card') return;
        return view(touch({ ...ctx, step: 'factor', error: e.code }, e.now, enq), enq);
      },
      'card.ejected': (ctx) => ({ ...ctx, cardInReader: false }),
      'auth.factorAccepted': (ctx, e, enq) => {
        if (e.factor === 'oldId' && ctx.step === 'checkingCard') return release({ ...ctx, heldDocument: e.documentNumber }, enq);
        if (e.factor === 'birthDate' && ctx.step === 'checkingBirthDate') return release(ctx, enq);
      },
      'auth.factorRejected': (ctx, e, enq) => {
        if (ctx.step !== 'checkingCard' && ctx.step !== 'checkingBirthDate') return;
        if (ctx.step === 'checkingCard') enq.emit.send({ to: READER, message: { type: 'verdict', sessionId: ctx.id, accepted: false, documentNumber: null } });
        if (e.locked) return finish(ctx, 'locked', 'PICKUP_LOCKED', e.now, enq);
        if (e.code === 'SESSION_NOT_FOUND') return finish(ctx, 'failed', 'SESSION_NOT_FOUND', e.now, enq);
        // A card that does not match is given back; the birth date is the fallback.
        return view(touch({ ...ctx, step: 'birthDate', error: e.code }, e.now, enq), enq);
      },
      'card.shredded': (ctx, _e, enq) => (ctx.step === 'shredding' ? release(ctx, enq) : undefined),
      // The card was verified and is inside the box even if the shredder jammed: staff destroys it.
      'card.retained': (ctx, _e, enq) => (ctx.step === 'shredding' ? release(ctx, enq) : undefined),
      'input.birthDate': (ctx, e, enq) => {
        if (refused(ctx, e, enq)) return;
        try {
          const birthDate = parseBirthDate(e.birthDate, e.now, policy.timeZone);
          enq.emit.send({ to: REGISTRY, message: { type: 'auth.birthDate', sessionId: ctx.id, birthDate } });
          return view(touch({ ...ctx, step: 'checkingBirthDate', error: null }, e.now, enq), enq, e);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          return view(touch({ ...ctx, error: error.code }, e.now, enq), enq, e);
        }
      },
      'release.started': (ctx, e, enq) => (ctx.step === 'opening' ? view({ ...ctx, compartmentId: e.compartmentId }, enq) : undefined),
      'release.failed': (ctx, e, enq) => finish(ctx, 'failed', e.code, e.now, enq),
      'pickup.doorOpened': (ctx, e, enq) => {
        if (ctx.heldDocument && ctx.cardInReader) {
          // The new document can be taken now: only now is the old one destroyed.
          enq.emit.send({ to: READER, message: { type: 'verdict', sessionId: ctx.id, accepted: true, documentNumber: ctx.heldDocument } });
          return finish({ ...ctx, compartmentId: e.compartmentId, cardInReader: false, heldDocument: null }, 'collected', null, e.now, enq);
        }
        return finish({ ...ctx, compartmentId: e.compartmentId }, 'collected', null, e.now, enq);
      },
      'pickup.doorNotOpened': (ctx, e, enq) => finish(ctx, 'doorNotOpened', 'DOOR_NOT_OPENED', e.now, enq),
      'input.cancel': (ctx, e, enq) => (refused(ctx, e, enq) ? undefined : finish(ctx, 'cancelled', null, e.now, enq, e)),
      timeout: (ctx, e, enq) => {
        // While the door is unlocking the compartment's own 30 s window decides.
        if (ctx.step === 'opening' || ctx.step === 'shredding') return;
        return finish(ctx, 'timeout', 'SESSION_TIMEOUT', e.now, enq);
      },
      // The kiosk reports the jack; the view tells the page to switch speech to private mode.
      headphones: (ctx, e, enq) => (ctx.headphones === e.plugged || ctx.step === 'done' ? undefined : view({ ...ctx, headphones: e.plugged }, enq)),
      'linger.over': (_ctx, _e, enq) => {
        enq.emit.stop({});
      },
      recovered: recover,
      restarted: recover,
    },
  });
}
