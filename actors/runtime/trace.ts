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

/** A bounded ring of the most recent messages, with listeners for live subscriptions. */
export class Trace {
  /** circular: entry `seq` lives at index `(seq - 1) % limit` */
  private readonly ring: TraceEntry[] = [];
  private seq = 0;
  private readonly listeners = new Set<(e: TraceEntry) => void>();

  constructor(private readonly limit = 50_000) {}

  record(entry: Omit<TraceEntry, 'seq'>): TraceEntry {
    const full = { seq: ++this.seq, ...entry };
    this.ring[(full.seq - 1) % this.limit] = full;
    for (const l of this.listeners) l(full);
    return full;
  }

  /** Kept entries after `sinceSeq` (all kept ones by default), oldest first. */
  entries(sinceSeq = 0): TraceEntry[] {
    const first = Math.max(sinceSeq + 1, this.seq - this.ring.length + 1);
    const out: TraceEntry[] = [];
    for (let s = first; s <= this.seq; s++) out.push(this.ring[(s - 1) % this.limit]!);
    return out;
  }

  get lastSeq(): number {
    return this.seq;
  }

  listen(fn: (e: TraceEntry) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
