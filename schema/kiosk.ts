import type { BoxApi } from '../src/box-api.js';
import { hoursText } from '../src/config.js';
import { builder, type Context } from './builder.js';

/**
 * What the citizen's panel needs beside its session: the box clock (countdowns), the opening
 * hours, the card reader and shredder as the citizen sees them, and the box front to point at the
 * open compartment. Nothing here is personal or says which compartment holds what.
 */

interface FrontSlot {
  id: string;
  column: number;
  row: number;
  size: string;
  accessible: boolean;
}

interface KioskPanel {
  kioskId: string;
  now: number;
  openNow: boolean;
  nextOpening: number | null;
  hours: string;
  location: string;
  readerAvailable: boolean;
  shredderState: string;
  front: FrontSlot[];
}

/** Column (1 = leftmost) and row (1 = top) from an id of column letters and a row number, like B07. */
export function frontPosition(id: string): { column: number; row: number } {
  const match = /^([A-Z]{1,3})([0-9]{1,3})$/.exec(id);
  if (!match) return { column: 1, row: 1 };
  let column = 0;
  for (const letter of match[1]!) column = column * 26 + (letter.charCodeAt(0) - 64);
  return { column, row: Number(match[2]) };
}

function panelOf(box: BoxApi, kioskId: string): KioskPanel {
  const devices = box.devices();
  return {
    kioskId,
    now: box.clock.now(),
    openNow: box.openNow(),
    nextOpening: box.nextOpening() ?? null,
    hours: hoursText(box.config),
    location: box.config.location,
    readerAvailable: devices.reader.available,
    shredderState: devices.shredder.state,
    front: box.config.compartments.map((c) => ({ id: c.id, ...frontPosition(c.id), size: c.size, accessible: c.accessible })),
  };
}

const FrontSlotRef = builder.objectRef<FrontSlot>('FrontSlot').implement({
  description: 'One compartment door on the box front, where a person sees it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    column: t.exposeInt('column', { description: '1 = leftmost column' }),
    row: t.exposeInt('row', { description: '1 = top row of its column' }),
    size: t.exposeString('size'),
    accessible: t.exposeBoolean('accessible'),
  }),
});

const KioskPanelRef = builder.objectRef<KioskPanel>('KioskPanel').implement({
  description: "What the citizen's panel shows beside its session.",
  fields: (t) => ({
    kioskId: t.exposeID('kioskId'),
    now: t.expose('now', { type: 'DateTime', description: 'the box clock, for countdowns to retryAt and expiresAt' }),
    openNow: t.exposeBoolean('openNow'),
    nextOpening: t.expose('nextOpening', { type: 'DateTime', nullable: true }),
    hours: t.exposeString('hours', { description: 'the opening hours as text' }),
    location: t.exposeString('location'),
    readerAvailable: t.exposeBoolean('readerAvailable', { description: 'the card slot takes cards' }),
    shredderState: t.exposeString('shredderState', { description: 'idle, shredding, jammed, binFull or failed' }),
    front: t.field({ type: [FrontSlotRef], resolve: (p) => p.front, description: 'the box front, to show where the open compartment is' }),
  }),
});

builder.queryFields((t) => ({
  kioskPanel: t.field({
    type: KioskPanelRef,
    description: "The panel's own facts; a kiosk sees its own, other roles the box's first kiosk.",
    authScopes: { $any: { kiosk: true, staff: true, monitor: true, harness: true } },
    resolve: (_root, _args, ctx: Context) => panelOf(ctx.box, ctx.kioskId ?? ctx.box.config.kiosks[0]!),
  }),
}));
