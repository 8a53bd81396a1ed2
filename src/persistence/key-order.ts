const noop = (): void => {};

/**
 * Calls on one key run one after the other, in the order they were made; calls on other keys do
 * not wait for them. A PIN's claim and its release are two statements, each retried on its own
 * while another process holds SQLite's lock: without this, a release made after a claim could land
 * first, and the claim then hold the key for an owner who gave it back (a pickup revived while its
 * claim was still being written gives it back at once).
 */
export class KeyOrder {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, call: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key);
    const result = before === undefined ? call() : before.then(call);
    const tail = result.then(noop, noop);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** keys with a call still running */
  get busy(): number {
    return this.tails.size;
  }
}
