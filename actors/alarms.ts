import type { BoxOutgoing } from './protocol.js';
import type { ErrorCode } from './domain/errors.js';
import { answer, refuse, requestOf } from './runtime/ask.js';
import { defineActor } from './runtime/define.js';
import { z } from 'zod';
import { alarmClearSchema, alarmRaiseSchema, maybeAsked, type Severity } from './messages.js';

/**
 * The single writer of alarms. Raising an alarm whose key is open changes nothing (no floods);
 * an alarm ends when its cause clears it or staff acknowledges it.
 */

export interface Alarm {
  id: string;
  key: string;
  code: ErrorCode;
  severity: Severity;
  subject: string;
  text: string;
  raisedAt: number;
  clearedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

export interface AlarmsCtx {
  seq: number;
  /** open (not cleared, not acknowledged) and the most recent closed alarms, newest last */
  alarms: Alarm[];
}

/** Everything the alarm list takes, as a runtime schema. */
export const AlarmsMessage = z.discriminatedUnion('type', [
  alarmRaiseSchema,
  alarmClearSchema,
  z.object({ type: z.literal('alarm.ack'), id: z.string(), by: z.string(), ...maybeAsked }),
]);
export type AlarmsEvent = z.infer<typeof AlarmsMessage>;

const KEEP_CLOSED = 500;

export const alarmsActor = defineActor<AlarmsCtx, AlarmsEvent, never, BoxOutgoing>({
  kind: 'alarms',
  messages: AlarmsMessage,
  // An alarm raised or cleared while the list had failed for good is a fact nobody sends again:
  // kept, and applied once staff revive it (an acknowledgement, asked, is refused meanwhile).
  keepsMailWhileFailed: true,
  init: () => ({ seq: 0, alarms: [] }),
  on: {
    'alarm.raise': (ctx, e, enq) => {
      if (ctx.alarms.some((a) => a.key === e.key && isOpen(a))) return;
      const alarm: Alarm = {
        id: `AL-${ctx.seq + 1}`,
        key: e.key,
        code: e.code,
        severity: e.severity,
        subject: e.subject,
        text: e.text,
        raisedAt: e.now,
        clearedAt: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
      };
      enq.emit.publish({ event: { type: 'alarm.raised', alarm } });
      enq.emit.audit({ entry: { action: 'alarm.raised', subject: e.subject, detail: { id: alarm.id, code: e.code, severity: e.severity } } });
      return { seq: ctx.seq + 1, alarms: trim([...ctx.alarms, alarm]) };
    },
    'alarm.clear': (ctx, e, enq) => {
      const open = ctx.alarms.find((a) => a.key === e.key && isOpen(a));
      if (!open) return;
      const cleared = { ...open, clearedAt: e.now };
      enq.emit.publish({ event: { type: 'alarm.cleared', alarm: cleared } });
      return { ...ctx, alarms: ctx.alarms.map((a) => (a === open ? cleared : a)) };
    },
    'alarm.ack': (ctx, e, enq) => {
      const alarm = ctx.alarms.find((a) => a.id === e.id);
      if (!alarm || alarm.acknowledgedAt !== null) {
        const request = requestOf(e);
        if (request) enq.emit.send(refuse(request, 'ALARM_NOT_FOUND', `no unacknowledged alarm ${e.id}`));
        return;
      }
      const acked = { ...alarm, acknowledgedAt: e.now, acknowledgedBy: e.by };
      enq.emit.publish({ event: { type: 'alarm.acknowledged', alarm: acked } });
      enq.emit.audit({ entry: { action: 'alarm.acknowledged', actor: e.by, subject: alarm.subject, detail: { id: alarm.id, code: alarm.code } } });
      const request = requestOf(e);
      if (request) enq.emit.send(answer(request, acked));
      return { ...ctx, alarms: ctx.alarms.map((a) => (a === alarm ? acked : a)) };
    },
  },
});

export function isOpen(a: Alarm): boolean {
  return a.clearedAt === null && a.acknowledgedAt === null;
}

function trim(alarms: Alarm[]): Alarm[] {
  const closed = alarms.filter((a) => !isOpen(a));
  if (closed.length <= KEEP_CLOSED) return alarms;
  const drop = new Set(closed.slice(0, closed.length - KEEP_CLOSED));
  return alarms.filter((a) => !drop.has(a));
}
