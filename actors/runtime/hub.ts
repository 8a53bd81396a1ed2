/**
 * A fan-out of values to any number of listeners, also readable as AsyncIterables so that
 * GraphQL subscriptions on both servers can consume the same stream.
 */
export class Hub<T> {
  private readonly listeners = new Set<(value: T) => void>();

  /** Tells every listener present now; one added or removed while it runs takes effect next time. */
  publish(value: T): void {
    const size = this.listeners.size;
    if (size === 0) return; // the common case on the hot path: nobody listens
    if (size === 1) {
      this.listeners.values().next().value!(value);
      return;
    }
    for (const l of [...this.listeners]) l(value);
  }

  listen(fn: (value: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * An async iterator over values published from now on: `filter` drops what the reader does not
   * want, `map` shapes what it gets. Ending the iteration stops listening.
   */
  iterate<U = T>(filter: (value: T) => boolean = () => true, map: (value: T) => U = (v) => v as unknown as U): AsyncIterableIterator<U> {
    return pushed<U>((push) => this.listen((value) => (filter(value) ? push(map(value)) : undefined)));
  }
}

/**
 * An iterator fed by a push source: `subscribe(push)` starts it and returns the stop function,
 * called when the reader goes away. Values pushed faster than they are read wait in a bounded queue.
 */
export function pushed<T>(subscribe: (push: (value: T) => void) => () => void, bufferLimit = 10_000): AsyncIterableIterator<T> {
  const queue: T[] = [];
  let wake: ((r: IteratorResult<T>) => void) | null = null;
  let done = false;
  const stop = subscribe((value) => {
    if (done) return;
    if (wake) {
      const w = wake;
      wake = null;
      w({ value, done: false });
    } else if (queue.length < bufferLimit) queue.push(value);
  });
  const finish = (): IteratorResult<T> => {
    if (!done) {
      done = true;
      stop();
    }
    queue.length = 0;
    if (wake) {
      const w = wake;
      wake = null;
      w({ value: undefined, done: true });
    }
    return { value: undefined, done: true };
  };
  const it: AsyncIterableIterator<T> = {
    next: () => {
      if (queue.length) return Promise.resolve({ value: queue.shift() as T, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (wake = resolve));
    },
    return: () => Promise.resolve(finish()),
    throw: (error: unknown) => {
      finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
