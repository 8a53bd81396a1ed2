import type Keyv from 'keyv';
import type { CommandOutcome, FleetCommandType, FleetEvent } from './protocol.js';

/** A pickup as the centre knows it: what the municipal registry may see, and which box holds it. */
export interface FleetPickup {
  reference: string;
  boxId: string;
  status: string;
  compartmentId: string | null;
  change: string;
  /** the box's time of the last change */
  updatedAt: number;
  /** the box event that set this state; an older event never overwrites a newer one */
  seq: number;
}

/** A box as the centre knows it. */
export interface FleetBox {
  id: string;
  /** every event up to this sequence number has reached the centre */
  lastSeq: number;
  /** the highest sequence number seen; above lastSeq while events are missing (in flight, or lost by a Redis without persistence) */
  highestSeq: number;
  /** the last event whose changes are applied: events are applied in sequence, each once */
  appliedSeq?: number;
  /** the box's time of its last event */
  lastEventAt: number | null;
  health: Record<string, unknown> | null;
  healthSeq: number;
  auditHead: { seq: number; hash: string } | null;
  openAlarms: Record<string, { code: string; severity: string; subject: string; text: string; raisedAt: number }>;
}

export interface CommandRecord {
  id: string;
  boxId: string;
  type: FleetCommandType;
  reference: string | null;
  issuedAt: number;
  expiresAt: number;
  outcome: CommandOutcome | null;
}

export interface CentralAlarm {
  key: string;
  code: 'BOX_SILENT' | 'WEBHOOK_UNDELIVERABLE';
  subject: string;
  text: string;
  raisedAt: number;
  clearedAt: number | null;
}

/** The record of a box the centre has no event of yet. */
export const emptyBox = (id: string): FleetBox => ({ id, lastSeq: 0, highestSeq: 0, lastEventAt: null, health: null, healthSeq: 0, auditHead: null, openAlarms: {} });

/**
 * The centre's read model in its own keyv store: the event log `event:<box>:<seq>` (each event
 * once, by its id), pickups, boxes and commands. A box's events are applied in sequence by one
 * process at a time (the central service holds a per-box lease and fills gaps from the stream);
 * the box record, written last, moves the box's `appliedSeq`, so an event at or below it is
 * skipped, and one cut short by a crash is applied again — every write before is idempotent.
 */
export class Projection {
  constructor(
    readonly kv: Keyv,
    private readonly sets: SetIndex = memorySets(),
  ) {}

  /** The last event applied for a box (before `appliedSeq` was kept: the contiguous log). */
  async appliedSeq(boxId: string): Promise<number> {
    const box = await this.box(boxId);
    return box ? (box.appliedSeq ?? box.lastSeq) : 0;
  }

  /**
   * Applies one event unless it is applied already; `beforeCommit` runs after the pickup and
   * command writes and before the box record (the cursor), so its effects also repeat after a
   * crash in between. `known` is the box record as the caller last had it from `apply` (the
   * apply lease keeps it current), which saves reading it again. Returns the box record written,
   * or null when the event was applied already.
   */
  async apply(e: FleetEvent, beforeCommit?: () => Promise<void>, known?: FleetBox): Promise<FleetBox | null> {
    const stored = known ?? (await this.box(e.boxId)) ?? emptyBox(e.boxId);
    const box: FleetBox = { ...stored, openAlarms: { ...stored.openAlarms } };
    if (e.seq <= (box.appliedSeq ?? box.lastSeq)) return null;
    // The log entry and the state changes touch different keys: written side by side, both done before the cursor moves.
    const logged = this.kv.set(`event:${e.boxId}:${e.seq}`, e);
    try {
      await this.applyState(e, box);
    } finally {
      await logged;
    }
    await beforeCommit?.();
    // Events are logged in sequence, so the contiguous log grows only by this event; a record from
    // before `appliedSeq` was kept may have events above it in the log: look once.
    let lastSeq = box.lastSeq;
    if (e.seq === lastSeq + 1) lastSeq = e.seq;
    if (box.appliedSeq === undefined) while ((await this.kv.get(`event:${e.boxId}:${lastSeq + 1}`)) !== undefined) lastSeq++;
    const next: FleetBox = { ...box, lastSeq, appliedSeq: e.seq, highestSeq: Math.max(box.highestSeq ?? 0, e.seq), lastEventAt: Math.max(box.lastEventAt ?? 0, e.at) };
    await this.kv.set(`box:${e.boxId}`, next);
    return next;
  }

  /** What one event changes besides the log: pickups and commands in the store, the box record in `box` (written by `apply`). */
  private async applyState(e: FleetEvent, box: FleetBox): Promise<void> {
    switch (e.type) {
      case 'pickup.changed':
        await this.setPickup({ reference: String(e.data.reference), boxId: e.boxId, status: String(e.data.status), compartmentId: (e.data.compartmentId as string | null) ?? null, change: String(e.data.change ?? ''), updatedAt: e.at, seq: e.seq });
        break;
      case 'box.snapshot':
        for (const p of (e.data.pickups as Array<{ reference: string; status: string; compartmentId: string | null; updatedAt: number }>) ?? []) {
          await this.setPickup({ reference: p.reference, boxId: e.boxId, status: p.status, compartmentId: p.compartmentId, change: 'snapshot', updatedAt: p.updatedAt, seq: e.seq });
        }
        break;
      case 'alarm.raised': {
        const a = e.data as { id: string; code: string; severity: string; subject: string; text: string; raisedAt: number };
        box.openAlarms[a.id] = { code: a.code, severity: a.severity, subject: a.subject, text: a.text, raisedAt: a.raisedAt };
        break;
      }
      case 'alarm.cleared':
      case 'alarm.acknowledged':
        delete box.openAlarms[String(e.data.id)];
        break;
      case 'box.health':
        if (e.seq > box.healthSeq) {
          box.health = e.data;
          box.healthSeq = e.seq;
        }
        break;
      case 'audit.head':
        if (!box.auditHead || Number(e.data.seq) > box.auditHead.seq) box.auditHead = { seq: Number(e.data.seq), hash: String(e.data.hash) };
        break;
      case 'command.outcome': {
        const outcome = e.data as unknown as CommandOutcome;
        const command = await this.command(outcome.commandId);
        // The first outcome stands: a box that repeats one after a crash repeats the same answer.
        if (command && !command.outcome) await this.kv.set(`command:${command.id}`, { ...command, outcome });
        break;
      }
      default:
        break;
    }
  }

  private async setPickup(next: FleetPickup): Promise<void> {
    const current = await this.pickup(next.reference);
    if (current && current.seq > next.seq && current.boxId === next.boxId) return;
    if (current && current.seq === next.seq && current.boxId === next.boxId && current.change !== 'snapshot') return;
    await this.kv.set(`pickup:${next.reference}`, next);
    if (!current) await this.addToIndex('pickups', next.reference);
  }

  pickup(reference: string): Promise<FleetPickup | undefined> {
    return this.kv.get<FleetPickup>(`pickup:${reference}`);
  }

  box(id: string): Promise<FleetBox | undefined> {
    return this.kv.get<FleetBox>(`box:${id}`);
  }

  event(boxId: string, seq: number): Promise<FleetEvent | undefined> {
    return this.kv.get<FleetEvent>(`event:${boxId}:${seq}`);
  }

  command(id: string): Promise<CommandRecord | undefined> {
    return this.kv.get<CommandRecord>(`command:${id}`);
  }

  async saveCommand(record: CommandRecord): Promise<void> {
    await this.kv.set(`command:${record.id}`, record);
  }

  async pickups(filter: { reference?: string; status?: string; boxId?: string } = {}): Promise<FleetPickup[]> {
    const refs = filter.reference ? [filter.reference] : await this.index('pickups');
    const found = (await Promise.all(refs.map((r) => this.pickup(r)))).filter((p): p is FleetPickup => p !== undefined);
    return found
      .filter((p) => (filter.status ? p.status === filter.status : true) && (filter.boxId ? p.boxId === filter.boxId : true))
      .sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
  }

  async saveAlarm(alarm: CentralAlarm): Promise<void> {
    await this.kv.set(`calarm:${alarm.key}`, alarm);
    await this.addToIndex('alarms', alarm.key);
  }

  centralAlarm(key: string): Promise<CentralAlarm | undefined> {
    return this.kv.get<CentralAlarm>(`calarm:${key}`);
  }

  async centralAlarms(openOnly = true): Promise<CentralAlarm[]> {
    const all = (await Promise.all((await this.index('alarms')).map((k) => this.centralAlarm(k)))).filter((a): a is CentralAlarm => a !== undefined);
    return openOnly ? all.filter((a) => a.clearedAt === null) : all;
  }

  private index(name: string): Promise<string[]> {
    return this.sets.members(name);
  }

  private addToIndex(name: string, key: string): Promise<void> {
    return this.sets.add(name, key);
  }
}

/**
 * The lists of keys the projection is queried by. keyv cannot add to a list atomically, so
 * several central processes keep them as Redis sets (SADD); one process may keep them in memory.
 */
export interface SetIndex {
  add(name: string, member: string): Promise<void>;
  members(name: string): Promise<string[]>;
}

export function memorySets(): SetIndex {
  const sets = new Map<string, Set<string>>();
  return {
    async add(name, member) {
      if (!sets.has(name)) sets.set(name, new Set());
      sets.get(name)!.add(member);
    },
    async members(name) {
      return [...(sets.get(name) ?? [])];
    },
  };
}
