/** A value as the outside world may see it: nothing in it can be assigned, pushed or deleted. */
export type DeepReadonly<T> = T extends (...args: any[]) => unknown
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepReadonly<U>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

const views = new WeakMap<object, object>();

const refuse = (what: string, key: PropertyKey): never => {
  throw new TypeError(`a read-only view of an actor's committed state cannot ${what} ${String(key)}`);
};

const handler: ProxyHandler<object> = {
  get(target, key, receiver) {
    const value: unknown = Reflect.get(target, key, receiver);
    return typeof value === 'object' && value !== null ? readonlyView(value) : value;
  },
  set: (_target, key) => refuse('set', key),
  deleteProperty: (_target, key) => refuse('delete', key),
  defineProperty: (_target, key) => refuse('define', key),
  setPrototypeOf: () => refuse('change the prototype of', 'it'),
  preventExtensions: () => refuse('freeze', 'it'),
};

/**
 * A read-only view of `value` that costs O(1) to make: a proxy that refuses every write (a
 * TypeError) and hands out read-only views of what it holds. The committed state of an actor is
 * handed out only this way, so a reader can neither change it nor see it change under a handler
 * (handlers replace state, they never mutate it). Copy it (`plainCopy`) to keep or change it.
 */
export function readonlyView<T extends object>(value: T): DeepReadonly<T> {
  let view = views.get(value);
  if (!view) {
    view = new Proxy(value, handler);
    views.set(value, view);
  }
  return view as DeepReadonly<T>;
}

/** A plain, mutable deep copy of JSON-like data (also of a read-only view). */
export function plainCopy<T>(value: DeepReadonly<T> | T): T {
  return value === undefined ? (value as T) : (JSON.parse(JSON.stringify(value)) as T);
}
