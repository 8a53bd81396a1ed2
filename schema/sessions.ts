import { DomainError } from '../actors/domain/errors.js';
import type { BoxApi, SessionInputCommand } from '../src/box-api.js';
import type { SessionView } from '../actors/session.js';
import { builder, type Context } from './builder.js';
import { birthDateArg, phoneArg, pinArg } from './validation.js';

/**
 * Kiosk sessions: one citizen at the panel. A kiosk token may only see and drive the sessions of
 * its own kiosk; staff, monitors and the harness may read any session.
 */

export const SessionRef = builder.objectRef<SessionView>('Session').implement({
  description: 'What the panel shows: the current step, the last problem as a stable code, and the outcome.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kioskId: t.exposeString('kioskId'),
    step: t.exposeString('step', { description: 'phone, pin, checkingPin, checkingResend, factor, card, checkingCard, shredding, birthDate, checkingBirthDate, opening, done' }),
    error: t.exposeString('error', { nullable: true, description: 'e.g. AUTH_FAILED, AUTH_THROTTLED, BIRTH_DATE_MISMATCH' }),
    retryAt: t.expose('retryAt', { type: 'DateTime', nullable: true }),
    oldIdPossible: t.exposeBoolean('oldIdPossible', { description: 'whether the panel may offer the old ID card as second factor' }),
    compartmentId: t.exposeString('compartmentId', { nullable: true, description: 'the compartment to open, once authenticated' }),
    outcome: t.exposeString('outcome', { nullable: true, description: 'collected, doorNotOpened, timeout, cancelled, locked, failed, interrupted' }),
    revision: t.exposeInt('revision', { description: 'rises with every change of the session: a view with a lower revision than one already seen is stale' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'when the session times out without input (null once it ended)' }),
    warning: t.exposeBoolean('warning', { description: 'the time limit is near (WCAG 2.2.1): show and speak it; extendSession gives more time' }),
    extensionsLeft: t.exposeInt('extensionsLeft', { description: 'how often extendSession may still give more time' }),
    pinRequested: t.exposeBoolean('pinRequested', { description: 'requestNewPin was answered: a new PIN is on its way if a pickup waits for the number (the answer is the same either way)' }),
    headphones: t.exposeBoolean('headphones', { description: 'headphones are plugged into the panel\'s jack: speak privately (masked entries and personal data only there)' }),
  }),
});

const Factor = builder.enumType('SecondFactor', { values: ['OLD_ID', 'BIRTH_DATE'] as const });

/** The session `id` as `ctx` may see it: a kiosk only its own. Unknown and foreign look the same to a kiosk. */
export function visibleSession(ctx: Context, id: string): SessionView {
  const view = ctx.box.session(id);
  // The same error for both, so that a kiosk cannot learn which session ids exist elsewhere.
  if (!view || (ctx.role === 'kiosk' && view.kioskId !== ctx.kioskId)) throw new DomainError('SESSION_NOT_FOUND', 'The session does not exist or has ended');
  return view;
}

/** One panel input: answered with the session as it is once the session dealt with this input. */
function input(ctx: Context, sessionId: string, command: SessionInputCommand): Promise<SessionView> {
  visibleSession(ctx, sessionId);
  return ctx.box.sessionInput(sessionId, command);
}

/** The session after an input; a session that ended and was removed meanwhile reads as SESSION_NOT_FOUND. */
function afterInput(box: BoxApi, sessionId: string): SessionView {
  const view = box.session(sessionId);
  if (!view) throw new DomainError('SESSION_NOT_FOUND', 'The session has ended');
  return view;
}

const KIOSK = { kiosk: true } as const;

builder.queryFields((t) => ({
  session: t.field({
    type: SessionRef,
    nullable: true,
    authScopes: { $any: { kiosk: true, staff: true, monitor: true, harness: true } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      const view = ctx.box.session(String(id));
      if (!view || (ctx.role === 'kiosk' && view.kioskId !== ctx.kioskId)) return null;
      return view;
    },
  }),
}));

builder.mutationFields((t) => ({
  startSession: t.field({
    type: SessionRef,
    description: 'Starts a session at this kiosk (BOX_CLOSED outside the opening hours, KIOSK_BUSY while one runs).',
    authScopes: KIOSK,
    resolve: async (_root, _args, ctx) => {
      if (!ctx.kioskId) throw new DomainError('FORBIDDEN', 'This token is not bound to a kiosk');
      const { sessionId } = await ctx.box.startSession(ctx.kioskId);
      return afterInput(ctx.box, sessionId);
    },
  }),
  enterPhone: t.field({
    type: SessionRef,
    authScopes: KIOSK,
    args: { sessionId: t.arg.id({ required: true }), phone: t.arg.string({ required: true, validate: phoneArg }) },
    resolve: (_root, args, ctx) => input(ctx, String(args.sessionId), { type: 'phone', phone: args.phone }),
  }),
  enterPin: t.field({
    type: SessionRef,
    authScopes: KIOSK,
    args: { sessionId: t.arg.id({ required: true }), pin: t.arg.string({ required: true, validate: pinArg }) },
    resolve: (_root, args, ctx) => input(ctx, String(args.sessionId), { type: 'pin', pin: args.pin }),
  }),
  chooseFactor: t.field({
    type: SessionRef,
    authScopes: KIOSK,
    args: { sessionId: t.arg.id({ required: true }), factor: t.arg({ type: Factor, required: true }) },
    resolve: (_root, args, ctx) =>
      input(ctx, String(args.sessionId), { type: 'factor', factor: args.factor === 'OLD_ID' ? 'oldId' : 'birthDate' }),
  }),
  enterBirthDate: t.field({
    type: SessionRef,
    authScopes: KIOSK,
    args: { sessionId: t.arg.id({ required: true }), birthDate: t.arg.string({ required: true, description: 'DD.MM.YYYY as typed', validate: birthDateArg }) },
    resolve: (_root, args, ctx) => input(ctx, String(args.sessionId), { type: 'birthDate', birthDate: args.birthDate }),
  }),
  extendSession: t.field({
    type: SessionRef,
    description: 'More time for the citizen (WCAG 2.2.1): the time limit starts again, while extensionsLeft is above 0.',
    authScopes: KIOSK,
    args: { sessionId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => input(ctx, String(args.sessionId), { type: 'extend' }),
  }),
  requestNewPin: t.field({
    type: SessionRef,
    description:
      '"I have not received an SMS", at the phone step: if a READY pickup waits for the number and its daily budget allows, a new PIN is sent and the old one dies. The answer is the same either way (step pin, pinRequested); throttled like a PIN attempt (AUTH_THROTTLED with retryAt).',
    authScopes: KIOSK,
    args: { sessionId: t.arg.id({ required: true }), phone: t.arg.string({ required: true, validate: phoneArg }) },
    resolve: (_root, args, ctx) => input(ctx, String(args.sessionId), { type: 'lostPin', phone: args.phone }),
  }),
  cancelSession: t.field({
    type: SessionRef,
    authScopes: KIOSK,
    args: { sessionId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => input(ctx, String(args.sessionId), { type: 'cancel' }),
  }),
}));

builder.subscriptionFields((t) => ({
  sessionChanged: t.field({
    type: SessionRef,
    description: 'Every change of one session, for the panel.',
    authScopes: { $any: { kiosk: true, staff: true, monitor: true, harness: true } },
    args: { sessionId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => {
      const id = String(args.sessionId);
      visibleSession(ctx, id);
      return ctx.box.sessionEvents(id);
    },
    resolve: (view) => view,
  }),
}));
