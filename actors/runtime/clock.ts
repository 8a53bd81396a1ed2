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
  /** Resolves after `ms`; used by drivers for pulse lengths. */
  /** Resolves after `ms`, or at once when `signal` aborts (the caller checks `signal.aborted`). */
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

/** A clock that moves only when told to. Timers fire in (time, creation) order. */
export class SimulatedClock implements Clock {
  private current: number;
  private next = 1;
  private readonly timers = new Map<number, PendingTimer>();
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
    this.timers.set(id, { id, at, fn, sleep: false });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const t = this.timers.get(handle.id);
    if (t?.sleep) this.sleeping--;
    this.timers.delete(handle.id);
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
      this.timers.set(id, { id, at: this.current + Math.max(0, ms), fn: wake, sleep: true });
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
    let best: PendingTimer | undefined;
    for (const t of this.timers.values()) {
      if (t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }

  /** Fires one timer: moves time to it and runs its callback. */
  fire(timer: PendingTimer): void {
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
