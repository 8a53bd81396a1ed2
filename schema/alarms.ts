import type { Alarm } from '../actors/alarms.js';
import { builder, READERS } from './builder.js';
import { actorOf } from './compartments.js';

/** Alarms: raised by devices and timers, cleared by their cause or acknowledged by staff. */

export const AlarmRef = builder.objectRef<Alarm>('Alarm').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    code: t.exposeString('code', { description: 'stable code, e.g. DOOR_LEFT_OPEN, SHREDDER_JAM, PICKUP_EXPIRED' }),
    severity: t.exposeString('severity'),
    subject: t.exposeString('subject', { description: 'the compartment or device concerned' }),
    text: t.exposeString('text'),
    open: t.boolean({ resolve: (a) => a.clearedAt === null && a.acknowledgedAt === null }),
    raisedAt: t.expose('raisedAt', { type: 'DateTime' }),
    clearedAt: t.expose('clearedAt', { type: 'DateTime', nullable: true }),
    acknowledgedAt: t.expose('acknowledgedAt', { type: 'DateTime', nullable: true }),
    acknowledgedBy: t.exposeString('acknowledgedBy', { nullable: true }),
  }),
});

export const ALARM_EVENT_KINDS = { 'alarm.raised': 'RAISED', 'alarm.cleared': 'CLEARED', 'alarm.acknowledged': 'ACKNOWLEDGED' } as const;
export const AlarmEventKind = builder.enumType('AlarmEventKind', { values: ['RAISED', 'CLEARED', 'ACKNOWLEDGED'] as const });

export interface AlarmEventShape {
  kind: (typeof ALARM_EVENT_KINDS)[keyof typeof ALARM_EVENT_KINDS];
  alarm: Alarm;
}

export const AlarmEventRef = builder.objectRef<AlarmEventShape>('AlarmEvent').implement({
  fields: (t) => ({
    kind: t.field({ type: AlarmEventKind, resolve: (e) => e.kind }),
    alarm: t.field({ type: AlarmRef, resolve: (e) => e.alarm }),
  }),
});

/** True for the box events that are alarm changes. */
export const isAlarmEvent = (e: { type: string }): boolean => Object.prototype.hasOwnProperty.call(ALARM_EVENT_KINDS, e.type);

/** The subscriber's view of an alarm event of the box stream. */
export const alarmEventOf = (e: { type: string; [k: string]: unknown }): AlarmEventShape => ({
  kind: ALARM_EVENT_KINDS[e.type as keyof typeof ALARM_EVENT_KINDS],
  alarm: e.alarm as Alarm,
});

builder.queryFields((t) => ({
  alarms: t.field({
    type: [AlarmRef],
    authScopes: READERS,
    args: { openOnly: t.arg.boolean({ required: false, defaultValue: false }) },
    resolve: (_root, { openOnly }, { box }) => box.alarms(openOnly ?? false),
  }),
}));

builder.mutationFields((t) => ({
  acknowledgeAlarm: t.field({
    type: AlarmRef,
    authScopes: { staff: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const alarm = await ctx.box.acknowledgeAlarm(String(id), actorOf(ctx));
      return alarm;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  alarms: t.field({
    type: AlarmEventRef,
    authScopes: READERS,
    subscribe: (_root, _args, { box }) => box.events.iterate(isAlarmEvent, alarmEventOf),
    resolve: (e) => e,
  }),
}));
