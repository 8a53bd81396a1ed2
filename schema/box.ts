import type { BoxApi } from '../src/box-api.js';
import { hoursText } from '../src/config.js';
import { builder } from './builder.js';
import { actorOf } from './compartments.js';
import { actorAddressArg } from './validation.js';

/** The box itself: name, opening state, hours, and a health summary. */

interface BoxInfo {
  name: string;
  openNow: boolean;
  nextOpening: number | null;
  hours: string;
  location: string;
}

const BoxRef = builder.objectRef<BoxInfo>('Box').implement({
  description: 'The pickup box: where it is and whether it serves now.',
  fields: (t) => ({
    name: t.exposeString('name'),
    location: t.exposeString('location'),
    openNow: t.exposeBoolean('openNow', { description: 'true while the opening hours allow sessions' }),
    nextOpening: t.expose('nextOpening', { type: 'DateTime', nullable: true, description: 'start of the next opening period; null in 24/7 mode' }),
    hours: t.exposeString('hours', { description: 'the opening hours as text, as the panel and SMS show them' }),
  }),
});

interface HealthInfo {
  ok: boolean;
  openAlarms: number;
  criticalAlarms: number;
  compartmentsOutOfService: number;
  readerAvailable: boolean;
  /** actors that failed for good (ACTOR_FAILED): the box is not healthy while there is one */
  failedActors: string[];
  /** pickups refused on their own (PICKUP_FAILED): the box is degraded, still ok */
  quarantinedPickups: number;
}

const HealthRef = builder.objectRef<HealthInfo>('Health').implement({
  description: 'A summary for load balancers and dashboards.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'false while a critical alarm is open or an actor has failed for good' }),
    openAlarms: t.exposeInt('openAlarms'),
    criticalAlarms: t.exposeInt('criticalAlarms'),
    compartmentsOutOfService: t.exposeInt('compartmentsOutOfService'),
    readerAvailable: t.exposeBoolean('readerAvailable'),
    failedActors: t.exposeStringList('failedActors', { description: 'addresses of actors that failed for good (e.g. registry, compartment/A07)' }),
    quarantinedPickups: t.exposeInt('quarantinedPickups', {
      description: 'pickups refused on their own (PICKUP_FAILED) because handling them kept crashing (their own actor, or for a pickup an earlier version registered, the registry); the box is degraded, not failed (the alarms name them)',
    }),
  }),
});

/** The health summary, shared by the `health` query and the servers' `/health` endpoints. */
export function healthOf(box: BoxApi): HealthInfo {
  const open = box.alarms(true);
  const critical = open.filter((a) => a.severity === 'critical').length;
  const failedActors = box.failures().map((f) => f.actor);
  return {
    ok: critical === 0 && failedActors.length === 0 && box.storageHealthy(),
    openAlarms: open.length,
    criticalAlarms: critical,
    compartmentsOutOfService: box.compartments().filter((c) => !c.inService).length,
    readerAvailable: box.devices().reader.available,
    failedActors,
    quarantinedPickups: box.quarantinedPickups().length,
  };
}

builder.queryFields((t) => ({
  box: t.field({
    type: BoxRef,
    authScopes: { authenticated: true },
    resolve: (_root, _args, { box }) => ({
      name: box.config.name,
      location: box.config.location,
      openNow: box.openNow(),
      nextOpening: box.nextOpening() ?? null,
      hours: hoursText(box.config),
    }),
  }),
  health: t.field({
    type: HealthRef,
    description: 'Open to every caller, like the /health endpoint.',
    resolve: (_root, _args, { box }) => healthOf(box),
  }),
}));

interface RevivedActor {
  address: string;
  kind: string;
}

const RevivedActorRef = builder.objectRef<RevivedActor>('RevivedActor').implement({
  description: 'An actor taken back into operation after it had failed for good.',
  fields: (t) => ({
    address: t.exposeString('address', { description: 'e.g. registry, compartment/A07, shredder/1' }),
    kind: t.exposeString('kind'),
  }),
});

builder.mutationFields((t) => ({
  reviveActor: t.field({
    type: RevivedActorRef,
    description:
      'After repair (a fixed version, a replaced device): takes an actor that failed for good (ACTOR_FAILED, health.failedActors) back into operation, audited; ' +
      'its kept timers run and it reconciles as after a crash. Messages sent to it meanwhile were refused and do not come back. If it keeps failing, it fails again.',
    authScopes: { staff: true },
    args: { address: t.arg.string({ required: true, validate: actorAddressArg }) },
    resolve: (_root, args, ctx) => ctx.box.reviveActor(args.address.trim(), actorOf(ctx)),
  }),
}));
