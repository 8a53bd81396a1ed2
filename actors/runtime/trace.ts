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
  private readonly ring: TraceEntry[] = [];
  private seq = 0;
  private readonly listeners = new Set<(e: TraceEntry) => void>();

  constructor(private readonly limit = 50_000) {}

  record(entry: Omit<TraceEntry, 'seq'>): TraceEntry {
    const full = { seq: ++this.seq, ...entry };
    this.ring.push(full);
    if (this.ring.length > this.limit) this.ring.splice(0, this.ring.length - this.limit);
    for (const l of this.listeners) l(full);
    return full;
  }

  /** Entries after `sinceSeq` (all kept ones by default). */
  entries(sinceSeq = 0): TraceEntry[] {
    return sinceSeq === 0 ? [...this.ring] : this.ring.filter((e) => e.seq > sinceSeq);
  }

  get lastSeq(): number {
    return this.seq;
  }

  listen(fn: (e: TraceEntry) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
