import type { BoxOutgoing } from './protocol.js';
import { z } from 'zod';
import { answer, refuse } from './runtime/ask.js';
import { defineActor } from './runtime/define.js';
import { isOpen, nextOpening, type OpeningHours } from './domain/hours.js';
import { errorCode, request, sessionAddress } from './messages.js';

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

/** Everything a kiosk takes, as a runtime schema. */
export const KioskMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session.start'), ...request }),
  z.object({ type: z.literal('session.ended'), sessionId: z.string() }),
  z.object({ type: z.literal('actor.escalated'), actor: z.string(), kind: z.string(), code: errorCode }),
  z.object({ type: z.literal('headphones.changed'), plugged: z.boolean() }),
  z.object({ type: z.literal('recovered') }),
]);
export type KioskEvent = z.infer<typeof KioskMessage>;

export function kioskActor(hours: OpeningHours) {
  return defineActor<KioskCtx, KioskEvent, never, BoxOutgoing>({
    kind: 'kiosk',
    interactive: true,
    messages: KioskMessage,
    init: (input: { id: string }) => ({ id: input.id, seq: 0, active: null }),
    on: {
      'session.start': (ctx, e, enq) => {
        if (!isOpen(hours, e.now)) {
          return void enq.emit.send(refuse(e, 'BOX_CLOSED', 'The box is closed now', { nextOpening: nextOpening(hours, e.now) }));
        }
        if (ctx.active) return void enq.emit.send(refuse(e, 'KIOSK_BUSY', 'A session is running at this panel'));
        const sessionId = `${ctx.id}-${ctx.seq + 1}`;
        enq.emit.spawn({ address: sessionAddress(sessionId), kind: 'session', input: { id: sessionId, kioskId: ctx.id, headphones: ctx.headphones ?? false } });
        enq.emit.send(answer(e, { sessionId }));
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
