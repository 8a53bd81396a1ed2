import type { BoxApi } from '../src/box-api.js';
import type { AuditRecord } from '../src/persistence/keyv-persistence.js';
import { builder, READERS } from './builder.js';
import { daysArg } from './validation.js';

/**
 * Figures for the office, computed from the box's own audit log (actions, times and pickup
 * references — never a phone number, PIN or birth date): per day in the box's time zone.
 */

export interface DayFigures {
  day: string;
  loaded: number;
  collected: number;
  /** median minutes from READY to collection of the pickups collected that day */
  medianReadyToCollectionMinutes: number | null;
  expired: number;
  /** collected ÷ (collected + expired) of the pickups that ended that day */
  collectedWithinWindowShare: number | null;
  failedAuthentications: number;
}

const DayFiguresRef = builder.objectRef<DayFigures>('DayFigures').implement({
  description: 'One day of the box, counted from its audit log.',
  fields: (t) => ({
    day: t.exposeString('day', { description: 'YYYY-MM-DD in the box\'s time zone' }),
    loaded: t.exposeInt('loaded', { description: 'pickups that became READY' }),
    collected: t.exposeInt('collected', { description: 'pickups collected by citizens' }),
    medianReadyToCollectionMinutes: t.exposeFloat('medianReadyToCollectionMinutes', { nullable: true }),
    expired: t.exposeInt('expired'),
    collectedWithinWindowShare: t.exposeFloat('collectedWithinWindowShare', { nullable: true, description: 'collected ÷ (collected + expired), 0…1' }),
    failedAuthentications: t.exposeInt('failedAuthentications'),
  }),
});

const SCAN_BATCH = 1_000;
/** the most records one computation reads, newest first (about a year of a busy box) */
const SCAN_LIMIT = 200_000;

/** Reads the audit log from `fromSeq` to the head in batches. */
async function* auditRecords(box: BoxApi, fromSeq: number): AsyncGenerator<AuditRecord> {
  for (let from = Math.max(1, fromSeq); ; from += SCAN_BATCH) {
    const batch = await box.audit(from, SCAN_BATCH);
    for (const r of batch) yield r;
    if (batch.length < SCAN_BATCH) return;
  }
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The last `days` days (today included), oldest first. */
export async function figuresOf(box: BoxApi, days: number): Promise<DayFigures[]> {
  const dayOf = new Intl.DateTimeFormat('en-CA', { timeZone: box.config.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const DAY = 86_400_000;
  const now = box.clock.now();
  const keys: string[] = [];
  for (let i = days - 1; i >= 0; i--) keys.push(dayOf.format(now - i * DAY));
  const byDay = new Map(keys.map((day) => [day, { day, loaded: 0, collected: 0, waits: [] as number[], expired: 0, failedAuthentications: 0 }]));
  const readyAt = new Map<string, number>();
  const head = await box.auditHead();
  for await (const r of auditRecords(box, head.seq - SCAN_LIMIT + 1)) {
    if (r.action === 'pickup.ready' && r.subject) readyAt.set(r.subject, r.at);
    const bucket = byDay.get(dayOf.format(r.at));
    if (!bucket) continue;
    if (r.action === 'pickup.ready') bucket.loaded++;
    else if (r.action === 'pickup.collected') {
      bucket.collected++;
      const ready = r.subject ? readyAt.get(r.subject) : undefined;
      if (ready !== undefined) bucket.waits.push((r.at - ready) / 60_000);
    } else if (r.action === 'pickup.expired') bucket.expired++;
    else if (r.action === 'auth.failed') bucket.failedAuthentications++;
  }
  return [...byDay.values()].map(({ waits, ...b }) => ({
    ...b,
    medianReadyToCollectionMinutes: median(waits),
    collectedWithinWindowShare: b.collected + b.expired === 0 ? null : b.collected / (b.collected + b.expired),
  }));
}

builder.queryFields((t) => ({
  figures: t.field({
    type: [DayFiguresRef],
    description: 'Per-day figures of the last `days` days (at most 366), oldest first, from the audit log.',
    authScopes: READERS,
    args: { days: t.arg.int({ required: false, defaultValue: 14, validate: daysArg }) },
    resolve: (_root, args, { box }) => figuresOf(box, args.days ?? 14),
  }),
}));
