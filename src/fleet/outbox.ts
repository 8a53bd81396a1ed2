import type Keyv from 'keyv';
import type { FleetEvent, FleetEventType } from './protocol.js';

/**
 * The box's durable fleet outbox, in the box's own store. Each event gets the next per-box
 * sequence number and is written as `fleet:out:<seq>` before anything tries to send it; the relay
 * reads the unsent ones in order and, once Redis has them, moves `fleet:sent` forward and deletes
 * them. Unsent entries are always the contiguous range `sent+1 … head`, so the head is found again
 * after a restart by walking up from `sent`.
 */
export class FleetOutbox {
  private head = 0;
  private sent = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly appendedListeners = new Set<(e: FleetEvent) => void>();

  private constructor(
    private readonly kv: Keyv,
    readonly boxId: string,
  ) {}

  static async open(kv: Keyv, boxId: string): Promise<FleetOutbox> {
    const outbox = new FleetOutbox(kv, boxId);
    outbox.sent = (await kv.get<number>('fleet:sent')) ?? 0;
    let head = outbox.sent;
    while ((await kv.get(`fleet:out:${head + 1}`)) !== undefined) head++;
    outbox.head = head;
    return outbox;
  }

  /** the last sequence number given out */
  get lastSeq(): number {
    return this.head;
  }

  /** the last sequence number Redis has acknowledged */
  get sentSeq(): number {
    return this.sent;
  }

  /** Appends an event durably; events are numbered in the order `append` is called. */
  append(type: FleetEventType, data: Record<string, unknown>, at: number): Promise<FleetEvent> {
    const run = this.chain.then(async () => {
      const seq = this.head + 1;
      const event: FleetEvent = { id: `${this.boxId}:${seq}`, boxId: this.boxId, seq, type, at, data };
      await this.kv.set(`fleet:out:${seq}`, event);
      this.head = seq;
      for (const l of this.appendedListeners) l(event);
      return event;
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** Calls `fn` after each event is durably appended. */
  onAppended(fn: (e: FleetEvent) => void): () => void {
    this.appendedListeners.add(fn);
    return () => this.appendedListeners.delete(fn);
  }

  /** The oldest unsent events, in sequence order. */
  async unsent(limit: number): Promise<FleetEvent[]> {
    const out: FleetEvent[] = [];
    for (let seq = this.sent + 1; seq <= this.head && out.length < limit; seq++) {
      const e = await this.kv.get<FleetEvent>(`fleet:out:${seq}`);
      if (!e) break;
      out.push(e);
    }
    return out;
  }

  /** Records that every event up to `seq` is in Redis, then forgets them. */
  async markSent(seq: number): Promise<void> {
    if (seq <= this.sent) return;
    const from = this.sent + 1;
    await this.kv.set('fleet:sent', seq);
    this.sent = seq;
    for (let s = from; s <= seq; s++) await this.kv.delete(`fleet:out:${s}`);
  }

  /** Waits until every append so far is written. */
  flush(): Promise<void> {
    return this.chain.then(() => undefined);
  }
}
