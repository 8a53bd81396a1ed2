import { defineActor } from './runtime/define.js';
import { isOpen, nextOpening, type OpeningHours } from './domain/hours.js';
import { sessionAddress } from './messages.js';

/**
 * The panel: starts one session at a time, and none outside the opening hours.
 */

export interface KioskCtx {
  id: string;
  seq: number;
  active: string | null;
  /** headphones in the panel's jack (absent in state saved before the jack was wired) */
  headphones?: boolean;
}

export type KioskEvent =
  | { type: 'session.start'; requestId: string; replyTo: string }
  | { type: 'session.ended'; sessionId: string }
  | { type: 'headphones.changed'; plugged: boolean }
  | { type: 'actor.escalated'; actor: string; kind: string; code: string }
  | { type: 'recovered' };

export function kioskActor(hours: OpeningHours) {
  return defineActor<KioskCtx, KioskEvent>({
    kind: 'kiosk',
    init: (input: { id: string }) => ({ id: input.id, seq: 0, active: null }),
    on: {
      'session.start': (ctx, e, enq) => {
        const answer = (message: Record<string, unknown>) => enq.emit.send({ to: e.replyTo, message: { type: 'reply', requestId: e.requestId, ...message } });
        if (!isOpen(hours, e.now)) {
          return void answer({ ok: false, code: 'BOX_CLOSED', message: 'The box is closed now', details: { nextOpening: nextOpening(hours, e.now) } });
        }
        if (ctx.active) return void answer({ ok: false, code: 'KIOSK_BUSY', message: 'A session is running at this panel' });
        const sessionId = `${ctx.id}-${ctx.seq + 1}`;
        enq.emit.spawn({ address: sessionAddress(sessionId), kind: 'session', input: { id: sessionId, kioskId: ctx.id, headphones: ctx.headphones ?? false } });
        answer({ ok: true, value: { sessionId } });
        return { ...ctx, seq: ctx.seq + 1, active: sessionId };
      },
      'session.ended': (ctx, e) => (ctx.active === e.sessionId ? { ...ctx, active: null } : undefined),
      /** The panel's headphone jack: remembered for the next session, passed on to the running one. */
      'headphones.changed': (ctx, e, enq) => {
        if (ctx.active) enq.emit.send({ to: sessionAddress(ctx.active), message: { type: 'headphones', plugged: e.plugged } });
        return { ...ctx, headphones: e.plugged };
      },
      // Its session failed for good: the panel must not stay busy.
      'actor.escalated': (ctx, e) => (ctx.active && e.actor === sessionAddress(ctx.active) ? { ...ctx, active: null } : undefined),
      // Every session ends with a restart (it is told `recovered` and finishes as interrupted):
      // the panel is free again, whether or not that session's end reaches it.
      recovered: (ctx) => (ctx.active ? { ...ctx, active: null } : undefined),
    },
  });
}
