import type { BoxOutgoing, BoxEnqueue } from './protocol.js';
import { defineActor } from './runtime/define.js';
import type { DeepReadonly } from './runtime/readonly.js';
import { z } from 'zod';
import { AUTH, READER, REGISTRY, errorCode, kioskAddress, maybeAsked, pickupAddress } from './messages.js';
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
  | 'checkingResend'
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
  /** counts every published view, so the panel can drop a view older than one it already has */
  revision?: number;
  /** when the session times out without input (WCAG 2.2.1); null once it ended */
  expiresAt?: number | null;
  /** the time-limit warning is out: the panel shows and speaks it, one key extends */
  warning?: boolean;
  /** extensions the citizen may still ask for */
  extensionsLeft?: number;
  /** a new PIN was asked for ("I have not received an SMS"): the same answer whether or not one was sent */
  pinRequested?: boolean;
  /**
   * The card reader's answer to "could you take an old ID card now?", asked with each PIN so that
   * it is usually there when the PIN is accepted: null while it is not. (The reader alone knows
   * whether it and the shredder work; no other actor keeps a copy.)
   */
  cardOffer?: boolean | null;
  /** which PIN's `offer` the reader's answer must name: an answer to an earlier PIN's may come late */
  offerAttempt?: number;
  /** the PIN was accepted for a pickup with an old ID registered: the card is offered once the reader answers */
  acceptedKind?: string | null;
  /** the pickup the PIN opened, claimed for this session: what the session tells the registry names it */
  pickupId?: string | null;
  /**
   * Its PIN went to be checked and no answer came yet. Should the session end meanwhile, a match
   * may still come, with the pickup claimed for it, and the session gives that claim back: it
   * stays (at step `done`, listed with the running sessions) past its final screen until the
   * answer comes, for up to `lateAnswerMs` more.
   */
  pinOutstanding?: true;
  /** its final screen is over: it goes as soon as the outstanding answer comes */
  lingered?: true;
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
  /** rises with every published view: a view with a lower revision is stale */
  readonly revision: number;
  /** when the session times out without input; null once it ended */
  readonly expiresAt: number | null;
  /** the session warns that its time runs out: one key extends it */
  readonly warning: boolean;
  readonly extensionsLeft: number;
  /** a new PIN was asked for: sent if a pickup waits for the number (the panel cannot know, nor say) */
  readonly pinRequested: boolean;
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
    revision: ctx.revision ?? 0,
    expiresAt: ctx.expiresAt ?? null,
    warning: ctx.warning ?? false,
    extensionsLeft: ctx.extensionsLeft ?? 0,
    pinRequested: ctx.pinRequested ?? false,
  };
}

/** How long a session waits for the card reader's answer once the PIN was accepted: a failed reader never answers. */
const CARD_OFFER_WAIT_MS = 1_000;

/** Steps in which the session waits for a check; an input's answer waits with it. */
const CHECKING: ReadonlySet<SessionStep> = new Set(['checkingPin', 'checkingResend', 'checkingCard', 'checkingBirthDate']);

/** An input is answered once its check is over: and, when it opens a door, once the door is known. */
const answerable = (ctx: SessionCtx): boolean => !CHECKING.has(ctx.step) && !(ctx.step === 'opening' && ctx.compartmentId === null);

/** An input, optionally sent as a request that wants the session's view as its answer. */
type Asked = { requestId?: string | undefined; replyTo?: typeof REPLIES | undefined };

const factor = z.enum(['oldId', 'birthDate']);

/** What a session tells the pickup its PIN opened: the second factor, and the release of the door. */
const PICKUP_STEPS: ReadonlySet<string> = new Set(['auth.oldDocument', 'auth.birthDate', 'pickup.release']);

/** Everything a session takes, as a runtime schema. Inputs may be sent with `ask`: they are answered with the session's view. */
export const SessionMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started') }),
  z.object({ type: z.literal('input.phone'), phone: z.string(), ...maybeAsked }),
  z.object({ type: z.literal('input.pin'), pin: z.string(), ...maybeAsked }),
  z.object({ type: z.literal('input.factor'), factor, ...maybeAsked }),
  z.object({ type: z.literal('input.birthDate'), birthDate: z.string(), ...maybeAsked }),
  z.object({ type: z.literal('input.cancel'), ...maybeAsked }),
  z.object({ type: z.literal('input.extend'), ...maybeAsked }),
  z.object({ type: z.literal('input.lostPin'), phone: z.string(), ...maybeAsked }),
  z.object({ type: z.literal('pin.resendAnswered') }),
  z.object({ type: z.literal('auth.throttled'), retryAt: z.number() }),
  z.object({ type: z.literal('auth.rejected'), retryAt: z.number().nullable() }),
  // PICKUP_FAILED: the pickup is quarantined (the counter hands it out); else busy for a while
  z.object({ type: z.literal('auth.busy'), code: z.literal('PICKUP_FAILED').optional() }),
  // `oldIdRegistered`: the pickup has an old ID the card could be checked against (`oldIdPossible`: sent by an earlier version, which decided itself)
  z.object({ type: z.literal('auth.pinAccepted'), documentKind: z.string(), oldIdRegistered: z.boolean().optional(), oldIdPossible: z.boolean().optional(), pickupId: z.string().optional() }),
  /** the card reader's answer to `offer` (`attempt`: the offer's, echoed) */
  z.object({ type: z.literal('card.offer'), possible: z.boolean(), attempt: z.number() }),
  /** the card reader did not answer `offer` in time: the birth date is the way */
  z.object({ type: z.literal('card.offerTimeout') }),
  /** a message of this session reached an actor that failed for good, or crashed it (`crashed`), and the supervisor sends it back with `message` */
  z.object({ type: z.literal('delivery.failed'), to: z.string(), messageType: z.string(), crashed: z.boolean().optional(), message: z.object({ attempt: z.number().optional() }).optional() }),
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
  z.object({ type: z.literal('timeout.warning') }),
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
  /**
   * How much longer a session that ended with its PIN still being checked waits for the answer
   * (a match claims the pickup for it, which it gives back): the pickup's claim lapses by itself
   * after this long (5 minutes by default).
   */
  lateAnswerMs?: number;
  /** wrong number/PIN pairs one session may try before it ends */
  maxPinRejections: number;
  timeZone: string;
  /** the time-limit warning comes this long before the timeout (WCAG 2.2.1: at least 20 s) */
  warnBeforeMs?: number;
  /** how often one key may extend the time limit (WCAG 2.2.1: at least 10) */
  maxExtensions?: number;
}

export const DEFAULT_WARN_BEFORE_MS = 20_000;
export const DEFAULT_LATE_ANSWER_MS = 5 * 60_000;
export const DEFAULT_MAX_EXTENSIONS = 10;

export interface SessionInput {
  id: string;
  kioskId: string;
  /** the panel's headphone jack when the session starts */
  headphones?: boolean;
}

export type SessionInputType = 'input.phone' | 'input.pin' | 'input.factor' | 'input.birthDate' | 'input.cancel' | 'input.extend' | 'input.lostPin';

/** What a session may be asked at each step; anything else is SESSION_WRONG_STEP. */
export const INPUT_STEPS: Record<SessionInputType, readonly SessionStep[]> = {
  'input.phone': ['phone'],
  'input.pin': ['pin'],
  'input.factor': ['factor'],
  'input.birthDate': ['birthDate'],
  'input.cancel': ['phone', 'pin', 'checkingPin', 'checkingResend', 'factor', 'card', 'checkingCard', 'birthDate', 'checkingBirthDate'],
  'input.extend': ['phone', 'pin', 'checkingPin', 'checkingResend', 'factor', 'card', 'checkingCard', 'birthDate', 'checkingBirthDate'],
  'input.lostPin': ['phone'],
};

export function sessionActor(policy: SessionPolicy) {
  type Enq = BoxEnqueue<SessionCtx, never>;

  /**
   * Publishes the session's new view and answers the inputs waiting for it, unless the session
   * is still checking: then the answer waits, and `asked` (the input just taken) waits with it.
   */
  const view = (before: SessionCtx, enq: Enq, asked?: Asked): SessionCtx => {
    const ctx: SessionCtx = { ...before, revision: (before.revision ?? 0) + 1 };
    const { id: sessionId, ...rest } = sessionView(ctx);
    enq.emit.publish({ event: { type: 'session.changed', sessionId, ...rest } });
    const waiting = asked?.requestId && asked.replyTo ? [...ctx.waiting, { requestId: asked.requestId, replyTo: asked.replyTo }] : ctx.waiting;
    if (!answerable(ctx)) return { ...ctx, waiting };
    const answerWith = sessionView(ctx);
    for (const request of waiting) enq.emit.send(answer(request, answerWith));
    return { ...ctx, waiting: [] };
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
  const lateAnswerMs = policy.lateAnswerMs ?? DEFAULT_LATE_ANSWER_MS;
  const warnBeforeMs = Math.min(policy.warnBeforeMs ?? DEFAULT_WARN_BEFORE_MS, policy.inactivityMs);
  /** Input: the time limit starts again, with its warning before it. */
  const touch = (ctx: SessionCtx, now: number, enq: Enq): SessionCtx => {
    const expiresAt = now + policy.inactivityMs;
    enq.emit.schedule({ key: 'timeout', at: expiresAt, message: { type: 'timeout' } });
    enq.emit.schedule({ key: 'warning', at: expiresAt - warnBeforeMs, message: { type: 'timeout.warning' } });
    return { ...ctx, lastInputAt: now, expiresAt, warning: false };
  };
  /** Ends the session: releases what it holds, tells the kiosk, and goes away after the final screen. */
  const finish = (ctx: SessionCtx, outcome: SessionOutcome, error: ErrorCode | null, now: number, enq: Enq, asked?: Asked): SessionCtx => {
    if (ctx.step === 'done') return ctx;
    if (ctx.cardInReader || ctx.step === 'card') enq.emit.send({ to: READER, message: { type: 'cancel', sessionId: ctx.id } });
    // Through the auth actor, which the session's PIN went through: the end never overtakes a match.
    // `claim`: a pickup may be held for this session (the one its PIN opened, named, or a PIN
    // still being checked); otherwise there is nothing to give back.
    const claim = ctx.pickupId != null || ctx.step === 'checkingPin';
    enq.emit.send({ to: AUTH, message: { type: 'session.ended', sessionId: ctx.id, claim, ...(ctx.pickupId ? { pickupId: ctx.pickupId } : {}) } });
    enq.emit.send({ to: kioskAddress(ctx.kioskId), message: { type: 'session.ended', sessionId: ctx.id } });
    enq.emit.cancel({ key: 'timeout' });
    enq.emit.cancel({ key: 'warning' });
    enq.emit.schedule({ key: 'linger', at: now + policy.lingerMs, message: { type: 'linger.over' } });
    enq.emit.audit({ entry: { action: 'session.ended', actor: `kiosk/${ctx.kioskId}`, subject: ctx.id, detail: { outcome } } });
    return view({ ...ctx, step: 'done', outcome, error, phone: null, heldDocument: null, cardInReader: false, expiresAt: null, warning: false }, enq, asked);
  };
  /** The answer to its PIN came (or never will: see delivery.failed): nothing is outstanding. */
  const settled = (ctx: SessionCtx): SessionCtx => {
    if (!ctx.pinOutstanding) return ctx;
    const { pinOutstanding: _outstanding, ...rest } = ctx;
    return rest;
  };
  /**
   * The answer to the PIN of a session that has ended: a match (`pickupId`) claimed the pickup for
   * it, which it gives back now (through no other actor: the match went its way already). The
   * session goes if its final screen is over.
   */
  const lateAnswer = (ctx: SessionCtx, enq: Enq, pickupId?: string): SessionCtx | undefined => {
    if (pickupId) enq.emit.send({ to: pickupAddress(pickupId), message: { type: 'session.ended', sessionId: ctx.id, pickupId } });
    if (!ctx.pinOutstanding) return;
    if (ctx.lingered) return void enq.emit.stop({});
    return settled(ctx);
  };
  /**
   * Tells the pickup the session's PIN opened (a session always knows it by then; one of an
   * earlier version may not: the registry finds the pickup by its claim, or none and says so).
   */
  const tellPickup = (
    ctx: SessionCtx,
    enq: Enq,
    message:
      | { type: 'pickup.release'; sessionId: string }
      | { type: 'auth.oldDocument'; sessionId: string; documentNumber: string }
      | { type: 'auth.birthDate'; sessionId: string; birthDate: string },
  ): void => {
    if (ctx.pickupId) enq.emit.send({ to: pickupAddress(ctx.pickupId), message: { ...message, pickupId: ctx.pickupId } });
    else enq.emit.send({ to: REGISTRY, message });
  };
  const release = (ctx: SessionCtx, enq: Enq): SessionCtx => {
    tellPickup(ctx, enq, { type: 'pickup.release', sessionId: ctx.id });
    return view({ ...ctx, step: 'opening', error: null }, enq);
  };
  const recover = (ctx: SessionCtx, e: { now: number }, enq: Enq) => finish(ctx, 'interrupted', 'INTERRUPTED', e.now, enq);
  /**
   * Asks the card reader whether it could take an old ID card now. Asked as the number is given,
   * so the answer is in before the PIN is checked and the PIN's way does not wait for the reader.
   * Aside: a failed reader must not fail the panel's input (the birth date is the way then).
   */
  const askReader = (ctx: SessionCtx, enq: Enq): SessionCtx => {
    const offerAttempt = (ctx.offerAttempt ?? 0) + 1;
    enq.emit.send({ to: READER, message: { type: 'offer', sessionId: ctx.id, attempt: offerAttempt }, aside: true });
    return { ...ctx, cardOffer: null, offerAttempt };
  };
  /** The reader's answer to the last `offer`: kept until the PIN is accepted, or acted on if it was. */
  const cardAnswered = (ctx: SessionCtx, possible: boolean, enq: Enq): SessionCtx | undefined => {
    if (ctx.step === 'done' || ctx.cardOffer !== null) return;
    if (ctx.acceptedKind == null) return { ...ctx, cardOffer: possible };
    enq.emit.cancel({ key: 'cardOffer' });
    return accepted(ctx, ctx.acceptedKind, possible, enq);
  };
  /** The PIN opened a pickup: on to the second factor, the card offered where the reader can take it. */
  const accepted = (ctx: SessionCtx, documentKind: string, card: boolean, enq: Enq): SessionCtx =>
    view({ ...ctx, step: card ? 'factor' : 'birthDate', documentKind, oldIdPossible: card, error: null, retryAt: null, cardOffer: undefined, acceptedKind: undefined }, enq);

  return defineActor<SessionCtx, SessionEvent, never, BoxOutgoing>({
    kind: 'session',
    // What the pickup its PIN opened refused comes back (its failed actor, or the failed registry a
    // pickup of an earlier version lives in): the session answers the panel itself.
    answersBounces: (_to, type) => PICKUP_STEPS.has(type),
    messages: SessionMessage,
    transient: true,
    interactive: true,
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
      extensionsLeft: policy.maxExtensions ?? DEFAULT_MAX_EXTENSIONS,
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
          return view(touch(askReader({ ...ctx, step: 'pin', phone, error: null }, enq), e.now, enq), enq, e);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          return view(touch({ ...ctx, error: error.code }, e.now, enq), enq, e);
        }
      },
      'input.pin': (ctx, e, enq) => {
        if (refused(ctx, e, enq) || !ctx.phone) return;
        if (!/^\d{6}$/.test(e.pin)) return view(touch({ ...ctx, error: 'INVALID_PIN_FORMAT' }, e.now, enq), enq, e);
        enq.emit.send({ to: AUTH, message: { type: 'auth.pin', sessionId: ctx.id, kioskId: ctx.kioskId, phone: ctx.phone, pin: e.pin } });
        // The reader was asked with the number (a session saved before it was, was not: now).
        const asked = ctx.cardOffer === undefined ? askReader(ctx, enq) : ctx;
        return view(touch({ ...asked, step: 'checkingPin', error: null, acceptedKind: null, pinOutstanding: true }, e.now, enq), enq, e);
      },
      // "I have not received an SMS": the number goes to the registry, which answers alike whatever it finds.
      'input.lostPin': (ctx, e, enq) => {
        if (refused(ctx, e, enq)) return;
        try {
          const phone = normalizeMobile(e.phone);
          enq.emit.send({ to: AUTH, message: { type: 'pin.resend', sessionId: ctx.id, kioskId: ctx.kioskId, phone } });
          return view(touch(askReader({ ...ctx, step: 'checkingResend', phone, error: null }, enq), e.now, enq), enq, e);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          return view(touch({ ...ctx, error: error.code }, e.now, enq), enq, e);
        }
      },
      // On to the PIN with the number given: the new PIN, if one was sent, arrives within moments.
      'pin.resendAnswered': (ctx, _e, enq) => (ctx.step === 'checkingResend' ? view({ ...ctx, step: 'pin', pinRequested: true, error: null, retryAt: null }, enq) : undefined),
      'auth.throttled': (ctx, e, enq) => {
        if (ctx.step === 'done') return lateAnswer(ctx, enq);
        if (ctx.step !== 'checkingPin' && ctx.step !== 'checkingResend') return;
        return view({ ...settled(ctx), step: 'phone', phone: null, error: 'AUTH_THROTTLED', retryAt: e.retryAt }, enq);
      },
      'auth.rejected': (found, e, enq) => {
        if (found.step === 'done') return lateAnswer(found, enq);
        if (found.step !== 'checkingPin') return;
        const ctx = settled(found);
        const pinRejections = ctx.pinRejections + 1;
        if (pinRejections >= policy.maxPinRejections) return finish({ ...ctx, pinRejections }, 'failed', 'AUTH_FAILED', e.now, enq);
        // Back to the number: the panel must not tell whether the number or the PIN was wrong.
        return view({ ...ctx, step: 'phone', phone: null, error: 'AUTH_FAILED', retryAt: e.retryAt, pinRejections }, enq);
      },
      'auth.busy': (ctx, e, enq) => {
        if (ctx.step === 'done') return lateAnswer(ctx, enq);
        if (ctx.step !== 'checkingPin') return;
        return finish(settled(ctx), 'failed', e.code ?? 'PICKUP_BUSY', e.now, enq);
      },
      'auth.pinAccepted': (found, e, enq) => {
        // The match came after this session ended (its PIN was still being checked): the pickup
        // holds a claim for it, which it gives back now.
        if (found.step === 'done') return lateAnswer(found, enq, e.pickupId);
        if (found.step !== 'checkingPin') return;
        const ctx = settled(e.pickupId ? { ...found, pickupId: e.pickupId } : found);
        if (e.oldIdRegistered === undefined) return accepted(ctx, e.documentKind, e.oldIdPossible ?? false, enq);
        if (!e.oldIdRegistered) return accepted(ctx, e.documentKind, false, enq);
        if (ctx.cardOffer === true || ctx.cardOffer === false) return accepted(ctx, e.documentKind, ctx.cardOffer, enq);
        // The reader has not answered yet: it gets a moment, not the citizen's patience.
        enq.emit.schedule({ key: 'cardOffer', at: e.now + CARD_OFFER_WAIT_MS, message: { type: 'card.offerTimeout' } });
        return { ...ctx, acceptedKind: e.documentKind };
      },
      // Only the answer to the last offer: one to an earlier number's, late, says how the reader was then.
      'card.offer': (ctx, e, enq) => (e.attempt === ctx.offerAttempt ? cardAnswered(ctx, e.possible, enq) : undefined),
      // The card reader failed for good (or crashed on the question): no card can be taken, the
      // birth date is the way (also when the card was chosen already: as if the reader had said it cannot take one).
      'delivery.failed': (ctx, e, enq) => {
        // The pickup its PIN opened failed for good (or crashed on the factor or the release),
        // which took no effect: the panel says at once that staff hand it out at the counter.
        // (`to` names the refusing actor: the registry for a pickup an earlier version registered.)
        if (PICKUP_STEPS.has(e.messageType)) return ctx.step === 'done' ? undefined : finish(ctx, 'failed', 'PICKUP_FAILED', e.now, enq);
        // Its PIN never reached a check (the auth actor failed for good, or crashed on it): no
        // answer will come. (The panel's call was refused with the code; the session waits for an
        // input, or its time-out, and then does not wait for the answer.)
        if (e.messageType === 'auth.pin') return ctx.step === 'done' ? lateAnswer(ctx, enq) : ctx.pinOutstanding ? settled(ctx) : undefined;
        if (e.to !== READER) return;
        // (Only the last offer's: an earlier number's, sent back late, says nothing of the reader now.)
        if (e.messageType === 'offer') return e.message?.attempt === undefined || e.message.attempt === ctx.offerAttempt ? cardAnswered(ctx, false, enq) : undefined;
        if (e.messageType === 'accept' && ctx.step === 'card') return view({ ...ctx, step: 'birthDate', oldIdPossible: false, error: 'CARD_UNAVAILABLE' }, enq);
      },
      'card.offerTimeout': (ctx, _e, enq) => (ctx.step === 'checkingPin' && ctx.acceptedKind != null ? accepted(ctx, ctx.acceptedKind, false, enq) : undefined),
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
        tellPickup(ctx, enq, { type: 'auth.oldDocument', sessionId: ctx.id, documentNumber });
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
          tellPickup(ctx, enq, { type: 'auth.birthDate', sessionId: ctx.id, birthDate });
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
      // The time limit is near: shown and spoken by the panel, where one key asks for more.
      'timeout.warning': (ctx, _e, enq) => (ctx.step === 'done' || ctx.step === 'opening' || ctx.step === 'shredding' || ctx.warning ? undefined : view({ ...ctx, warning: true }, enq)),
      // More time, up to the limit of extensions; past it the answer says none is left and the timeout stands.
      'input.extend': (ctx, e, enq) => {
        if (refused(ctx, e, enq)) return;
        const left = ctx.extensionsLeft ?? 0;
        if (left <= 0) return view(ctx, enq, e);
        enq.emit.audit({ entry: { action: 'session.extended', actor: `kiosk/${ctx.kioskId}`, subject: ctx.id, detail: { left: left - 1 } } });
        return view(touch({ ...ctx, extensionsLeft: left - 1 }, e.now, enq), enq, e);
      },
      timeout: (ctx, e, enq) => {
        // While the door is unlocking the compartment's own 30 s window decides.
        if (ctx.step === 'opening' || ctx.step === 'shredding') return;
        return finish(ctx, 'timeout', 'SESSION_TIMEOUT', e.now, enq);
      },
      // The kiosk reports the jack; the view tells the page to switch speech to private mode.
      headphones: (ctx, e, enq) => (ctx.headphones === e.plugged || ctx.step === 'done' ? undefined : view({ ...ctx, headphones: e.plugged }, enq)),
      'linger.over': (ctx, e, enq) => {
        // Ended with its PIN still being checked: it waits for the answer (a match claims the
        // pickup for it until it gives the claim back), for up to `lateAnswerMs` more (by default
        // a claim's length: a claim made before the end has lapsed by then).
        if (ctx.pinOutstanding && !ctx.lingered) {
          enq.emit.schedule({ key: 'linger', at: e.now + lateAnswerMs, message: { type: 'linger.over' } });
          return { ...ctx, lingered: true };
        }
        enq.emit.stop({});
      },
      recovered: recover,
      restarted: recover,
    },
  });
}
