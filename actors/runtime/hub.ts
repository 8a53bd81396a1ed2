/**
 * A fan-out of values to any number of listeners, also readable as AsyncIterables so that
 * GraphQL subscriptions on both servers can consume the same stream.
 */
export class Hub<T> {
  private readonly listeners = new Set<(value: T) => void>();

  publish(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }

  listen(fn: (value: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** An async iterator over values published from now on; `filter` drops what the reader does not want. */
  iterate(filter: (value: T) => boolean = () => true, bufferLimit = 10_000): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let wake: ((r: IteratorResult<T>) => void) | null = null;
    let done = false;
    const stop = this.listen((value) => {
      if (!filter(value)) return;
      if (wake) {
        const w = wake;
        wake = null;
        w({ value, done: false });
      } else if (queue.length < bufferLimit) {
        queue.push(value);
      }
    });
    const finish = (): IteratorResult<T> => {
      done = true;
      stop();
      queue.length = 0;
      if (wake) {
        const w = wake;
        wake = null;
        w({ value: undefined, done: true });
      }
      return { value: undefined, done: true };
    };
    return {
      next: () => {
        if (queue.length) return Promise.resolve({ value: queue.shift() as T, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (wake = resolve));
      },
      return: () => Promise.resolve(finish()),
      throw: (err: unknown) => {
        finish();
        return Promise.reject(err);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
