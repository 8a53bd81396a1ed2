import { DomainError } from '../actors/domain/errors.js';
import type { BoxApi, CompartmentView } from '../src/box-api.js';
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
    column: t.int({ description: 'column on the box front, from 1 at the left (the letters of the id: A = 1, B = 2 … AA = 27)', resolve: (c) => positionOf(c.id).column }),
    row: t.int({ description: 'row on the box front, from 1 at the top (the number of the id)', resolve: (c) => positionOf(c.id).row }),
    heightCm: t.int({ nullable: true, description: 'height of the lock above the floor, from the layout', resolve: (c, _a, { box }) => layoutOf(box).compartments.get(c.id)?.heightCm ?? null }),
    board: t.string({ nullable: true, description: 'the lock board it is wired to, from the layout', resolve: (c, _a, { box }) => layoutOf(box).compartments.get(c.id)?.board ?? null }),
  }),
});

/** Where a compartment sits on the box front: its id is column letters and a row number (A07). */
export function positionOf(id: string): { column: number; row: number } {
  const m = /^([A-Z]+)(\d+)$/.exec(id);
  if (!m) return { column: 0, row: 0 };
  let column = 0;
  for (const ch of m[1]!) column = column * 26 + (ch.charCodeAt(0) - 64);
  return { column, row: Number(m[2]) };
}

type LayoutIndex = { compartments: Map<string, { heightCm: number; board: string }> };
const layouts = new WeakMap<BoxApi, LayoutIndex>();
/** The box's layout indexed by compartment (empty on device-level simulation without boards). */
function layoutOf(box: BoxApi): LayoutIndex {
  let index = layouts.get(box);
  if (!index) {
    index = { compartments: new Map((box.config.layout?.compartments ?? []).map((c) => [c.id, { heightCm: c.heightCm, board: c.board }])) };
    layouts.set(box, index);
  }
  return index;
}

type Devices = ReturnType<BoxApi['devices']>;

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

interface BoardInfo {
  id: string;
  kind: string;
  bus: number;
  address: number;
  compartments: number;
  fault: string | null;
  faultsRaised: number;
}

const BoardRef = builder.objectRef<BoardInfo>('LockBoard').implement({
  description: 'An I2C expander board of the layout that drives locks and reads doors.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.exposeString('kind', { description: 'mcp23017, pcf8574 or pcf8574a' }),
    bus: t.exposeInt('bus'),
    address: t.exposeInt('address'),
    compartments: t.exposeInt('compartments', { description: 'how many compartments it serves' }),
    ok: t.boolean({ resolve: (b) => b.fault === null }),
    fault: t.exposeString('fault', { nullable: true, description: 'the open fault code, e.g. I2C_NACK' }),
    faultsRaised: t.exposeInt('faultsRaised', { description: 'board faults among the alarms the box keeps' }),
  }),
});

const SmsOutboxRef = builder.objectRef<{ queued: number; sent: number; failed: number }>('SmsOutbox').implement({
  description: 'The SMS outbox: messages committed but not yet delivered, and counts since start.',
  fields: (t) => ({
    queued: t.exposeInt('queued'),
    sent: t.exposeInt('sent'),
    failed: t.exposeInt('failed', { description: 'failed delivery attempts (each is retried)' }),
  }),
});

/** The lock boards of the layout with their health, as the alarms tell it (`board:<id>`). */
function boardsOf(box: BoxApi): BoardInfo[] {
  const layout = box.config.layout;
  if (!layout) return [];
  const alarms = box.alarms();
  return layout.boards.map((b) => {
    const mine = alarms.filter((a) => a.key === `board:${b.id}`);
    const open = mine.find((a) => a.clearedAt === null);
    return {
      id: b.id,
      kind: b.kind,
      bus: b.bus,
      address: b.address,
      compartments: layout.compartments.filter((c) => c.board === b.id).length,
      fault: open ? open.code : null,
      faultsRaised: mine.length,
    };
  });
}

export const DevicesRef = builder.objectRef<Devices>('Devices').implement({
  fields: (t) => ({
    reader: t.field({ type: ReaderRef, resolve: (d) => d.reader }),
    shredder: t.field({ type: ShredderRef, resolve: (d) => d.shredder }),
    boards: t.field({ type: [BoardRef], description: 'lock boards of the layout (none on device-level simulation)', resolve: (_d, _a, { box }) => boardsOf(box) }),
    sms: t.field({
      type: SmsOutboxRef,
      // Counted in place: the outbox itself (SMS texts with numbers, delivered ids) is not copied.
      resolve: (_d, _a, { box }) => {
        const { pending, sent, failed } = box.counts().sms;
        return { queued: pending, sent, failed };
      },
    }),
  }),
});

/** The compartment's view, or COMPARTMENT_NOT_FOUND. */
export function compartmentOrThrow(box: BoxApi, id: string): CompartmentView {
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
export function watchCompartments(box: BoxApi, onChange: (view: CompartmentView) => void): () => void {
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
