/**
 * Time is injected everywhere: the box never calls Date.now() or setTimeout directly.
 * SystemClock runs on wall time; SimulatedClock only moves when a test advances it,
 * so a 10-day pickup window costs nothing in a test.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  /** Calls `fn` once at absolute time `at` (ms since epoch); an `at` in the past fires as soon as possible. */
  setTimer(at: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Resolves after `ms` (drivers: pulse lengths), or at once when `signal` aborts (the caller checks `signal.aborted`). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export class SystemClock implements Clock {
  private next = 1;
  private readonly handles = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const id = this.next++;
    // setTimeout caps at 2^31-1 ms (~24.8 days); re-arm for longer waits.
    const arm = (): void => {
      const delay = Math.max(0, at - Date.now());
      const t = setTimeout(() => {
        if (at - Date.now() > 5) return arm();
        this.handles.delete(id);
        fn();
      }, Math.min(delay, 2_000_000_000));
      t.unref?.();
      this.handles.set(id, t);
    };
    arm();
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const t = this.handles.get(handle.id);
    if (t) clearTimeout(t);
    this.handles.delete(handle.id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}

interface PendingTimer {
  id: number;
  at: number;
  fn: () => void;
  /** sleeps are awaited by I/O in flight; `idle` checks ignore work that only waits for the clock */
  sleep: boolean;
}

/** (time, creation) order */
const earlier = (a: PendingTimer, b: PendingTimer): boolean => a.at < b.at || (a.at === b.at && a.id < b.id);

/**
 * A clock that moves only when told to. Timers fire in (time, creation) order. Pending timers are
 * kept in a binary heap, so finding the next one costs O(log n) however many are pending (a
 * registry holds a purge timer per pickup of the audit period); a cleared timer stays in the heap
 * until it reaches the top or the heap is rebuilt.
 */
export class SimulatedClock implements Clock {
  private current: number;
  private next = 1;
  private readonly timers = new Map<number, PendingTimer>();
  private heap: PendingTimer[] = [];
  /** pending sleeps, counted as they come and go: `idle` asks for it on every round */
  private sleeping = 0;

  constructor(start: number | Date = Date.UTC(2026, 10, 23, 9, 0, 0)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const id = this.next++;
    this.add({ id, at, fn, sleep: false });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const t = this.timers.get(handle.id);
    if (t?.sleep) this.sleeping--;
    this.timers.delete(handle.id);
    this.compact();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const id = this.next++;
      const wake = () => {
        // fire() has removed the timer already when time got there; an abort removes it here
        if (this.timers.delete(id)) this.sleeping--;
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.add({ id, at: this.current + Math.max(0, ms), fn: wake, sleep: true });
      this.sleeping++;
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** Number of pending sleeps: promises that only the clock can resolve. */
  get sleepers(): number {
    return this.sleeping;
  }

  /** The earliest pending timer due at or before `limit`, if any. */
  nextDue(limit: number): PendingTimer | undefined {
    const heap = this.heap;
    // Cleared timers that reached the top are dropped here.
    while (heap.length > 0 && this.timers.get(heap[0]!.id) !== heap[0]) this.pop();
    const top = heap[0];
    return top !== undefined && top.at <= limit ? top : undefined;
  }

  private add(timer: PendingTimer): void {
    this.timers.set(timer.id, timer);
    const heap = this.heap;
    let i = heap.push(timer) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(timer, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = timer;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && earlier(heap[right]!, heap[left]!) ? right : left;
      if (!earlier(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }

  /** Rebuilds the heap from the pending timers once cleared ones outnumber them (re-armed session timeouts). */
  private compact(): void {
    if (this.heap.length < 64 || this.heap.length < 2 * this.timers.size) return;
    const pending = [...this.timers.values()];
    this.heap = [];
    this.timers.clear();
    for (const t of pending) this.add(t);
  }

  /** Fires one timer: moves time to it and runs its callback. */
  fire(timer: PendingTimer): void {
    if (this.heap[0] === timer) this.pop();
    if (this.timers.delete(timer.id) && timer.sleep) this.sleeping--;
    if (timer.at > this.current) this.current = timer.at;
    timer.fn();
  }

  /** Moves time forward without firing anything (callers fire due timers first). */
  set(to: number): void {
    if (to > this.current) this.current = to;
  }

  /**
   * Advances time by `ms`, firing due timers in order. `settle` runs after each timer so that
   * work a timer starts (and timers that work sets) happens before time moves on.
   */
  async advance(ms: number, settle: () => Promise<void> = async () => {}): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      const due = this.nextDue(target);
      if (!due) break;
      this.fire(due);
      await settle();
    }
    this.set(target);
    await settle();
  }
}
