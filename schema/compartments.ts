import { DomainError } from '../actors/domain/errors.js';
import type { Box, CompartmentView } from '../src/box.js';
import { builder, READERS } from './builder.js';
import { pushed } from './streams.js';
import { reasonArg } from './validation.js';

/** Compartments and devices: what staff and monitors see of the hardware. */

export const CompartmentRef = builder.objectRef<CompartmentView>('Compartment').implement({
  description: 'One compartment of the box. Never says which pickup is inside.',
  fields: (t) => ({
    id: t.exposeID('id'),
    size: t.exposeString('size', { description: 'S, M, L or XL' }),
    accessible: t.exposeBoolean('accessible', { description: 'at wheelchair height' }),
    state: t.exposeString('state', { description: 'free, opening, occupied, outOfService, failed …' }),
    door: t.exposeString('door'),
    lock: t.exposeString('lock'),
    occupied: t.exposeBoolean('occupied'),
    fault: t.exposeString('fault', { nullable: true, description: 'stable fault code, e.g. DOOR_FORCED or I2C_NACK' }),
    inService: t.exposeBoolean('inService'),
  }),
});

type Devices = ReturnType<Box['devices']>;

const ReaderRef = builder.objectRef<Devices['reader']>('CardReader').implement({
  fields: (t) => ({
    state: t.exposeString('state'),
    available: t.exposeBoolean('available', { description: 'false while the card slot is closed (e.g. shredder jam)' }),
  }),
});

const ShredderRef = builder.objectRef<Devices['shredder']>('Shredder').implement({
  fields: (t) => ({
    state: t.exposeString('state'),
    binFree: t.exposeInt('binFree'),
    binCapacity: t.exposeInt('binCapacity'),
    retained: t.exposeInt('retained', { description: 'cards held in custody after a jam, not yet destroyed' }),
  }),
});

export const DevicesRef = builder.objectRef<Devices>('Devices').implement({
  fields: (t) => ({
    reader: t.field({ type: ReaderRef, resolve: (d) => d.reader }),
    shredder: t.field({ type: ShredderRef, resolve: (d) => d.shredder }),
  }),
});

/** The compartment's view, or COMPARTMENT_NOT_FOUND. */
export function compartmentOrThrow(box: Box, id: string): CompartmentView {
  const view = box.compartment(id);
  if (!view) throw new DomainError('COMPARTMENT_NOT_FOUND', `no compartment ${id}`);
  return view;
}

/** Who an action is recorded as done by. */
export const actorOf = (ctx: { identity: string | null; role: string | null }): string => ctx.identity ?? ctx.role ?? 'unknown';

builder.queryFields((t) => ({
  compartments: t.field({
    type: [CompartmentRef],
    authScopes: READERS,
    resolve: (_root, _args, { box }) => box.compartments(),
  }),
  compartment: t.field({
    type: CompartmentRef,
    nullable: true,
    authScopes: READERS,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { box }) => box.compartment(String(id)) ?? null,
  }),
  devices: t.field({
    type: DevicesRef,
    authScopes: READERS,
    resolve: (_root, _args, { box }) => box.devices(),
  }),
}));

builder.mutationFields((t) => ({
  setCompartmentService: t.field({
    type: CompartmentRef,
    description: 'Takes a compartment out of service (with a reason) or back into service.',
    authScopes: { staff: true },
    args: {
      id: t.arg.id({ required: true }),
      inService: t.arg.boolean({ required: true }),
      reason: t.arg.string({ required: false, validate: reasonArg }),
    },
    resolve: async (_root, args, ctx) => {
      const id = String(args.id);
      compartmentOrThrow(ctx.box, id);
      await ctx.box.setCompartmentService(id, args.inService, actorOf(ctx), args.reason ?? '');
      return compartmentOrThrow(ctx.box, id);
    },
  }),
  clearCompartmentFault: t.field({
    type: CompartmentRef,
    description: 'Staff confirms a faulty compartment was checked; it serves again.',
    authScopes: { staff: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = String(args.id);
      await ctx.box.clearCompartmentFault(id, actorOf(ctx));
      return compartmentOrThrow(ctx.box, id);
    },
  }),
  clearShredder: t.field({
    type: DevicesRef,
    description: 'Staff cleared a jam and/or emptied the bin.',
    authScopes: { staff: true },
    args: { binEmptied: t.arg.boolean({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.box.clearShredder(actorOf(ctx), args.binEmptied);
      return ctx.box.devices();
    },
  }),
}));

/** Calls `onChange` with a compartment's new view whenever it changed (the box's shared read model). */
export function watchCompartments(box: Box, onChange: (view: CompartmentView) => void): () => void {
  return box.compartmentChanges.listen(onChange);
}

builder.subscriptionFields((t) => ({
  compartmentChanged: t.field({
    type: CompartmentRef,
    description: 'A compartment\'s state, door, lock, fault or service changed (all compartments, or the one given).',
    authScopes: READERS,
    args: { id: t.arg.id({ required: false }) },
    subscribe: (_root, args, { box }) =>
      pushed<CompartmentView>((push) => watchCompartments(box, (view) => (args.id == null || view.id === String(args.id) ? push(view) : undefined))),
    resolve: (view) => view,
  }),
}));
