import type { CompartmentView } from '../src/box-api.js';
import { alarmEventOf, AlarmEventRef, isAlarmEvent, type AlarmEventShape } from './alarms.js';
import { builder, READERS } from './builder.js';
import { CompartmentRef, watchCompartments } from './compartments.js';
import { pickupChangeOf, PickupEventRef, type PickupChange } from './pickups.js';
import { pushed } from './streams.js';

/** `boxChanged`: one stream of everything a dashboard redraws on — pickups, alarms, compartments. */

type BoxChange =
  | { kind: 'PICKUP'; pickup: PickupChange }
  | { kind: 'ALARM'; alarm: AlarmEventShape }
  | { kind: 'COMPARTMENT'; compartment: CompartmentView };

const BoxChangeKind = builder.enumType('BoxChangeKind', { values: ['PICKUP', 'ALARM', 'COMPARTMENT'] as const });

const BoxChangeRef = builder.objectRef<BoxChange>('BoxChange').implement({
  description: 'Exactly one of pickup, alarm and compartment is set, as `kind` says.',
  fields: (t) => ({
    kind: t.field({ type: BoxChangeKind, resolve: (c) => c.kind }),
    pickup: t.field({ type: PickupEventRef, nullable: true, resolve: (c) => (c.kind === 'PICKUP' ? c.pickup : null) }),
    alarm: t.field({ type: AlarmEventRef, nullable: true, resolve: (c) => (c.kind === 'ALARM' ? c.alarm : null) }),
    compartment: t.field({ type: CompartmentRef, nullable: true, resolve: (c) => (c.kind === 'COMPARTMENT' ? c.compartment : null) }),
  }),
});

builder.subscriptionFields((t) => ({
  boxChanged: t.field({
    type: BoxChangeRef,
    authScopes: READERS,
    subscribe: (_root, _args, { box }) =>
      pushed<BoxChange>((push) => {
        const stopEvents = box.events.listen((e) => {
          if (e.type === 'pickup.changed') push({ kind: 'PICKUP', pickup: pickupChangeOf(e, box.clock.now()) });
          else if (isAlarmEvent(e)) push({ kind: 'ALARM', alarm: alarmEventOf(e) });
        });
        const stopCompartments = watchCompartments(box, (compartment) => push({ kind: 'COMPARTMENT', compartment }));
        return () => {
          stopEvents();
          stopCompartments();
        };
      }),
    resolve: (change) => change,
  }),
}));
