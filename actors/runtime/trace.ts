import type { Address } from './types.js';

/** One traced message: who sent what to whom, and because of which earlier message. No payload. */
export interface TraceEntry {
  seq: number;
  id: string;
  at: number;
  from: Address;
  to: Address;
  type: string;
  causation: string | null;
  /** set when nobody took the message */
  dead?: true;
}

/**
 * A bounded ring of the most recent messages, with listeners for live subscriptions.
 *
 * Every routed message is traced, so recording is on the hot path: the ring is kept column by
 * column (no object per message, nothing for the collector to trace), and an entry
 * object is built only for a live listener or when the entries are read.
 */
export class Trace {
  private seq = 0;
  // The columns grow up to `limit` as messages come, then are overwritten in place.
  private readonly ids: string[] = [];
  private readonly ats: number[] = [];
  private readonly froms: Address[] = [];
  private readonly tos: Address[] = [];
  private readonly types: string[] = [];
  private readonly causations: Array<string | null> = [];
  private readonly deads: boolean[] = [];
  private readonly listeners = new Set<(e: TraceEntry) => void>();

  constructor(private readonly limit = 50_000) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`trace limit must be a positive integer, got ${limit}`);
  }

  record(entry: Omit<TraceEntry, 'seq'>): TraceEntry {
    this.note(entry.id, entry.at, entry.from, entry.to, entry.type, entry.causation, entry.dead === true);
    return this.entryAt(this.seq);
  }

  /** Records one message; the hot path's form of `record`. Entry `seq` lives at slot `(seq - 1) % limit`. */
  note(id: string, at: number, from: Address, to: Address, type: string, causation: string | null, dead: boolean): void {
    const slot = this.seq % this.limit;
    this.seq++;
    if (slot === this.ids.length) {
      this.ids.push(id);
      this.ats.push(at);
      this.froms.push(from);
      this.tos.push(to);
      this.types.push(type);
      this.causations.push(causation);
      this.deads.push(dead);
    } else {
      this.ids[slot] = id;
      this.ats[slot] = at;
      this.froms[slot] = from;
      this.tos[slot] = to;
      this.types[slot] = type;
      this.causations[slot] = causation;
      this.deads[slot] = dead;
    }
    if (this.listeners.size > 0) {
      const entry = this.entryAt(this.seq);
      for (const l of this.listeners) l(entry);
    }
  }

  /** Kept entries after `sinceSeq` (all kept ones by default), oldest first. */
  entries(sinceSeq = 0): TraceEntry[] {
    const first = Math.max(sinceSeq + 1, this.seq - Math.min(this.seq, this.limit) + 1);
    const out: TraceEntry[] = [];
    for (let s = first; s <= this.seq; s++) out.push(this.entryAt(s));
    return out;
  }

  get lastSeq(): number {
    return this.seq;
  }

  listen(fn: (e: TraceEntry) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private entryAt(seq: number): TraceEntry {
    const slot = (seq - 1) % this.limit;
    const entry: TraceEntry = { seq, id: this.ids[slot]!, at: this.ats[slot]!, from: this.froms[slot]!, to: this.tos[slot]!, type: this.types[slot]!, causation: this.causations[slot]! };
    if (this.deads[slot]) entry.dead = true;
    return entry;
  }
}
