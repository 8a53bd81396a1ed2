import type { Client } from 'graphql-ws';
import type { CompartmentSource, FrontCompartment } from '../shared/box-front.js';
import type { ErrorCode } from '../shared/error-code.js';
import { gql } from './api.js';

/**
 * The live box as the console sees it: one query for the whole picture, then ONE subscription
 * (`boxChanged`) whose compartment changes are applied by key — only the changed compartment's
 * cell is told, so a burst over 608 compartments repaints 608 small cells, never the whole front.
 */

export interface Compartment extends FrontCompartment {
  lock: string;
  heightCm: number | null;
  board: string | null;
}

export interface Alarm {
  id: string;
  /** a catalog code (schema `Alarm.code`) */
  code: ErrorCode;
  severity: string;
  subject: string;
  text: string;
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  clearedAt: string | null;
  open: boolean;
}

export interface PickupChange {
  reference: string;
  status: string;
  change: string;
  compartmentId: string | null;
  at: string;
}

export interface BoxInfo {
  name: string;
  location: string;
  openNow: boolean;
  nextOpening: string | null;
  hours: string;
}

export const COMPARTMENT_FIELDS = 'id row column size accessible state door lock occupied fault inService heightCm board';
const ALARM_FIELDS = 'id code severity subject text raisedAt acknowledgedAt acknowledgedBy clearedAt open';

type Listener<T> = (value: T) => void;

class Topic<T> {
  private readonly listeners = new Set<Listener<T>>();
  listen(fn: Listener<T>): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }
  publish(value: T): void {
    for (const fn of this.listeners) fn(value);
  }
}

export class LiveBox implements CompartmentSource {
  private readonly byId = new Map<string, Compartment>();
  private readonly order: string[] = [];
  private readonly watchers = new Map<string, Set<Listener<Compartment>>>();
  alarms: Alarm[] = [];
  /**
   * Parts of the box that failed for good (`health.failedActors`). Most are named by an open
   * ACTOR_FAILED alarm too; the alarm list itself cannot be (see partsChanged).
   */
  failedParts: readonly string[] = [];
  box: BoxInfo | null = null;
  readonly alarmChanges = new Topic<{ kind: 'RAISED' | 'ACKNOWLEDGED' | 'CLEARED'; alarm: Alarm }>();
  readonly pickupChanges = new Topic<PickupChange>();
  readonly loaded = new Topic<void>();
  /** `failedParts` changed: read again with every alarm change and every few seconds (no change event tells it). */
  readonly partsChanged = new Topic<readonly string[]>();
  private stop: (() => void) | null = null;

  constructor(readonly client: Client) {}

  /** Subscribes first (changes meanwhile are buffered), then loads the picture and applies the buffer. */
  async start(): Promise<void> {
    let buffer: any[] | null = [];
    this.stop = this.client.subscribe(
      {
        query: `subscription { boxChanged { kind compartment { ${COMPARTMENT_FIELDS} } alarm { kind alarm { ${ALARM_FIELDS} } } pickup { reference status change compartmentId at } } }`,
      },
      {
        next: (r) => {
          const change = (r.data as any)?.boxChanged;
          if (!change) return;
          if (buffer) buffer.push(change);
          else this.apply(change);
        },
        error: () => {},
        complete: () => {},
      },
    );
    const data = await gql(
      this.client,
      `{ box { name location openNow nextOpening hours } compartments { ${COMPARTMENT_FIELDS} } alarms(openOnly: true) { ${ALARM_FIELDS} } health { failedActors } }`,
    );
    this.box = data.box;
    this.failedParts = data.health.failedActors;
    for (const c of data.compartments as Compartment[]) {
      if (!this.byId.has(c.id)) this.order.push(c.id);
      this.byId.set(c.id, c);
    }
    this.alarms = data.alarms;
    const pending = buffer;
    buffer = null;
    for (const change of pending) this.apply(change);
    this.loaded.publish();
  }

  close(): void {
    this.stop?.();
    if (this.partsTimer) clearInterval(this.partsTimer);
  }

  private partsTimer: ReturnType<typeof setInterval> | null = null;

  /** Reads the failed parts again every `ms` (the alarm list, failed, tells nobody). */
  watchParts(ms = 5_000): void {
    if (this.partsTimer) return;
    this.partsTimer = setInterval(() => void this.refreshParts().catch(() => {}), ms);
  }

  ids(): readonly string[] {
    return this.order;
  }

  get(id: string): Compartment | undefined {
    return this.byId.get(id);
  }

  watch(id: string, fn: Listener<Compartment>): () => void {
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(fn);
    return () => void set!.delete(fn);
  }

  /** Re-reads which parts failed for good; tells `partsChanged` when that changed. */
  async refreshParts(): Promise<void> {
    const parts: string[] = (await gql(this.client, '{ health { failedActors } }')).health.failedActors;
    if (parts.join() === this.failedParts.join()) return;
    this.failedParts = parts;
    this.partsChanged.publish(parts);
  }

  /** Re-reads the box info (open now, next opening). */
  async refreshBox(): Promise<void> {
    this.box = (await gql(this.client, '{ box { name location openNow nextOpening hours } }')).box;
  }

  private apply(change: any): void {
    if (change.kind === 'COMPARTMENT' && change.compartment) {
      const c = change.compartment as Compartment;
      this.byId.set(c.id, c);
      const set = this.watchers.get(c.id);
      if (set) for (const fn of set) fn(c);
    } else if (change.kind === 'ALARM' && change.alarm) {
      const { kind, alarm } = change.alarm as { kind: 'RAISED' | 'ACKNOWLEDGED' | 'CLEARED'; alarm: Alarm };
      this.alarms = [...this.alarms.filter((a) => a.id !== alarm.id), ...(alarm.open ? [alarm] : [])];
      this.alarmChanges.publish({ kind, alarm });
      // An ACTOR_FAILED raised or cleared: a part failed or came back.
      if (alarm.code === 'ACTOR_FAILED') void this.refreshParts().catch(() => {});
    } else if (change.kind === 'PICKUP' && change.pickup) {
      this.pickupChanges.publish(change.pickup as PickupChange);
    }
  }
}
