/**
 * A table of an actor's context (see rows.ts) as a persistent map: `setRow` returns a new table
 * that shares all but one path of a 32-way hash trie with the old one, so a handler changes one
 * row of a table with 50,000 rows in a few small array copies instead of copying the table, and
 * the old version stays exactly what it was (handlers stay pure; a crashed or uncommitted handling
 * leaves the committed context untouched). Two versions are compared by walking only the paths
 * they do not share, so a commit finds its changed rows in O(changed rows), not O(rows).
 *
 * Readers see a table as a read-only Record (`table[id]`, `Object.values`, `for…in`, JSON), its
 * keys in insertion order as with a plain object. Writing to it throws a TypeError.
 *
 * Derived indexes (`rowsWhere`) answer "the rows whose key is k" without a scan: built once per
 * table lineage and then carried along by every `setRow`/`deleteRow`, so they cannot drift.
 */

interface Leaf {
  readonly k: string;
  readonly h: number;
  readonly v: unknown;
  /** insertion sequence: keys enumerate in the order they were first set, as on a plain object */
  readonly s: number;
}
interface Node {
  readonly c: Slot[];
}
/** a leaf, a branch, or (past the last hash bits) the leaves whose hashes are all equal */
type Slot = Leaf | Node | Leaf[] | undefined;

/** An index over a table: the rows whose `keyOf` is some key. `name` identifies it on the table. */
export interface RowIndex<T> {
  readonly name: string;
  keyOf(row: T): string | null;
}

interface IndexState {
  readonly spec: RowIndex<any>;
  /** key → ids of the rows with that key (a small frozen array), itself a trie */
  readonly map: Trie;
}

interface Trie {
  readonly node: Node;
  readonly size: number;
  readonly seq: number;
}

interface Root extends Trie {
  /** the derived indexes of this version; absent until a first `rowsWhere` on the lineage (no Map per change of a table without any) */
  indexes?: Map<string, IndexState>;
  /** keys in insertion order, computed when first enumerated */
  keys?: string[];
}

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;
const EMPTY_NODE: Node = { c: new Array<Slot>(WIDTH) };
const EMPTY_TRIE: Trie = { node: EMPTY_NODE, size: 0, seq: 0 };

const isNode = (s: Slot): s is Node => s !== undefined && !Array.isArray(s) && 'c' in s;
const isLeaf = (s: Slot): s is Leaf => s !== undefined && !Array.isArray(s) && 'k' in s;

/** FNV-1a over the UTF-16 code units: cheap for the short ids and hashes that tables are keyed by. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function lookup(node: Node, key: string, h: number): Leaf | undefined {
  let slot: Slot = node;
  for (let shift = 0; ; shift += BITS) {
    slot = (slot as Node).c[(h >>> shift) & MASK];
    if (slot === undefined) return undefined;
    if (isNode(slot)) continue;
    if (Array.isArray(slot)) return slot.find((l) => l.k === key);
    return slot.k === key ? slot : undefined;
  }
}

/** The node with `leaf` set (replacing a leaf of the same key, which keeps its position). */
function insert(node: Node, leaf: Leaf, shift: number): { node: Node; added: boolean } {
  const i = (leaf.h >>> shift) & MASK;
  const slot = node.c[i];
  let next: Slot;
  let added = true;
  if (slot === undefined) next = leaf;
  else if (isNode(slot)) {
    const inner = insert(slot, leaf, shift + BITS);
    if (inner.node === slot) return { node, added: false };
    next = inner.node;
    added = inner.added;
  } else if (Array.isArray(slot)) {
    const at = slot.findIndex((l) => l.k === leaf.k);
    if (at >= 0 && slot[at]!.v === leaf.v) return { node, added: false };
    added = at < 0;
    next = at < 0 ? [...slot, leaf] : slot.map((l, j) => (j === at ? { ...leaf, s: l.s } : l));
  } else if (slot.k === leaf.k) {
    if (slot.v === leaf.v) return { node, added: false };
    next = { ...leaf, s: slot.s };
    added = false;
  } else if (shift + BITS >= 32) {
    next = [slot, leaf];
  } else {
    next = insert(insert({ c: new Array<Slot>(WIDTH) }, slot, shift + BITS).node, leaf, shift + BITS).node;
  }
  const c = node.c.slice();
  c[i] = next;
  return { node: { c }, added };
}

/** The node without `key` (the same node when it has no such key). */
function remove(node: Node, key: string, h: number, shift: number): Node {
  const i = (h >>> shift) & MASK;
  const slot = node.c[i];
  let next: Slot;
  if (slot === undefined) return node;
  if (isNode(slot)) {
    next = remove(slot, key, h, shift + BITS);
    if (next === slot) return node;
  } else if (Array.isArray(slot)) {
    if (!slot.some((l) => l.k === key)) return node;
    const rest = slot.filter((l) => l.k !== key);
    next = rest.length === 1 ? rest[0] : rest;
  } else if (slot.k === key) next = undefined;
  else return node;
  const c = node.c.slice();
  c[i] = next;
  return { c };
}

/** Adds `leaf` in place: only for nodes built by `trieOf`, which nothing else has seen yet. */
function insertOwned(node: Node, leaf: Leaf, shift: number): boolean {
  const i = (leaf.h >>> shift) & MASK;
  const slot = node.c[i];
  if (slot === undefined) node.c[i] = leaf;
  else if (isNode(slot)) return insertOwned(slot, leaf, shift + BITS);
  else if (Array.isArray(slot)) {
    const at = slot.findIndex((l) => l.k === leaf.k);
    if (at >= 0) return void (slot[at] = { ...leaf, s: slot[at]!.s }), false;
    slot.push(leaf);
  } else if (slot.k === leaf.k) {
    node.c[i] = { ...leaf, s: slot.s };
    return false;
  } else if (shift + BITS >= 32) node.c[i] = [slot, leaf];
  else {
    const inner: Node = { c: new Array<Slot>(WIDTH) };
    insertOwned(inner, slot, shift + BITS);
    insertOwned(inner, leaf, shift + BITS);
    node.c[i] = inner;
  }
  return true;
}

/** A trie of every entry of a plain Record, built in place (one pass, no path copies). */
function trieOf(record: Readonly<Record<string, unknown>>): Trie {
  const node: Node = { c: new Array<Slot>(WIDTH) };
  let size = 0;
  let seq = 0;
  for (const k in record) if (insertOwned(node, { k, h: hashOf(k), v: record[k], s: seq++ }, 0)) size++;
  return { node, size, seq };
}

function trieSet(t: Trie, key: string, value: unknown): Trie {
  const { node, added } = insert(t.node, { k: key, h: hashOf(key), v: value, s: t.seq }, 0);
  if (node === t.node) return t;
  return { node, size: t.size + (added ? 1 : 0), seq: t.seq + 1 };
}

function trieDelete(t: Trie, key: string): Trie {
  const node = remove(t.node, key, hashOf(key), 0);
  return node === t.node ? t : { node, size: t.size - 1, seq: t.seq };
}

function eachLeaf(slot: Slot, visit: (leaf: Leaf) => void): void {
  if (slot === undefined) return;
  if (isLeaf(slot)) return visit(slot);
  if (Array.isArray(slot)) return slot.forEach(visit);
  for (const s of slot.c) if (s !== undefined) eachLeaf(s, visit);
}

/** Calls `changed` for every key whose value differs between `a` and `b` (undefined: not in `b`). */
function diffSlots(a: Slot, b: Slot, changed: (key: string, value: unknown) => void): void {
  if (a === b) return;
  if (isNode(a) && isNode(b)) {
    for (let i = 0; i < WIDTH; i++) diffSlots(a.c[i], b.c[i], changed);
    return;
  }
  // Different shapes (a leaf became a branch, or one side is empty): compare their few leaves.
  const before = new Map<string, unknown>();
  eachLeaf(a, (l) => before.set(l.k, l.v));
  eachLeaf(b, (l) => {
    if (!before.has(l.k) || before.get(l.k) !== l.v) changed(l.k, l.v);
    before.delete(l.k);
  });
  for (const k of before.keys()) changed(k, undefined);
}

// ---------------------------------------------------------------------------------------------
// Tables: a trie behind a read-only Record face.

const roots = new WeakMap<object, Root>();
/** plain Records already turned into tables (a context loaded from storage is converted once) */
const converted = new WeakMap<object, object>();

const refuse = (key: PropertyKey): never => {
  throw new TypeError(`a table is changed with setRow/deleteRow, not by writing ${String(key)} to it`);
};

function face(root: Root): Record<string, any> {
  const target = {};
  const rowOf = (key: string) => lookup(root.node, key, hashOf(key));
  const proxy = new Proxy(target, {
    get: (t, key, receiver) => {
      if (typeof key === 'string') {
        const leaf = rowOf(key);
        if (leaf) return leaf.v;
      }
      return Reflect.get(t, key, receiver);
    },
    has: (t, key) => (typeof key === 'string' && rowOf(key) !== undefined) || Reflect.has(t, key),
    ownKeys: () => keysOf(root),
    getOwnPropertyDescriptor: (_t, key) => {
      if (typeof key !== 'string') return undefined;
      const leaf = rowOf(key);
      return leaf ? { value: leaf.v, writable: false, enumerable: true, configurable: true } : undefined;
    },
    set: (_t, key) => refuse(key),
    deleteProperty: (_t, key) => refuse(key),
    defineProperty: (_t, key) => refuse(key),
  });
  roots.set(proxy, root);
  return proxy;
}

function keysOf(root: Root): string[] {
  if (!root.keys) {
    const leaves: Leaf[] = [];
    eachLeaf(root.node, (l) => leaves.push(l));
    leaves.sort((a, b) => a.s - b.s);
    root.keys = leaves.map((l) => l.k);
  }
  return root.keys.slice();
}

/** The table behind a Record: itself when it is one, else the plain Record converted (once). */
function rootOf(table: Readonly<Record<string, unknown>> | undefined): Root {
  if (table === undefined) return { ...EMPTY_TRIE };
  const root = roots.get(table);
  if (root) return root;
  let proxy = converted.get(table);
  if (!proxy) {
    proxy = face({ ...trieOf(table) });
    converted.set(table, proxy);
  }
  return roots.get(proxy)!;
}

/** Whether `value` is a table (as opposed to a plain Record). */
export function isTable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && roots.has(value);
}

/** The table as a table: a plain Record (from storage, or built by hand in a test) is converted once. */
export function asTable<T>(table: Readonly<Record<string, T>> | undefined): Record<string, T> {
  if (table !== undefined && roots.has(table)) return table as Record<string, T>;
  if (table !== undefined && converted.has(table)) return converted.get(table) as Record<string, T>;
  const root = rootOf(table);
  return (table === undefined ? face(root) : converted.get(table)) as Record<string, T>;
}

function withIndexes(before: Root, t: Trie, id: string, old: unknown, value: unknown): Root {
  // A table nobody looks rows up in by index carries none; a new version gets a Map of its own
  // only when there are indexes to carry (a Map shared between versions would leak into older ones).
  if (before.indexes === undefined || before.indexes.size === 0) return { ...t };
  const indexes = new Map<string, IndexState>();
  for (const [name, state] of before.indexes) {
    const was = old === undefined ? null : state.spec.keyOf(old);
    const is = value === undefined ? null : state.spec.keyOf(value);
    let map = state.map;
    if (was !== is) {
      if (was !== null) {
        const ids = (lookup(map.node, was, hashOf(was))?.v as readonly string[] | undefined) ?? [];
        const rest = ids.filter((x) => x !== id);
        map = rest.length ? trieSet(map, was, Object.freeze(rest)) : trieDelete(map, was);
      }
      if (is !== null) {
        const ids = (lookup(map.node, is, hashOf(is))?.v as readonly string[] | undefined) ?? [];
        map = trieSet(map, is, Object.freeze([...ids, id]));
      }
    }
    indexes.set(name, { spec: state.spec, map });
  }
  return { ...t, indexes };
}

/** The table with row `id` set to `value`; the table passed in is unchanged. */
export function setRow<T>(table: Readonly<Record<string, T>> | undefined, id: string, value: NoInfer<T>): Record<string, T> {
  const root = rootOf(table);
  const old = lookup(root.node, id, hashOf(id))?.v;
  const t = trieSet(root, id, value);
  if (t === root) return asTable(table);
  return face(withIndexes(root, t, id, old, value)) as Record<string, T>;
}

/** The table without row `id`; the table passed in is unchanged. */
export function deleteRow<T>(table: Readonly<Record<string, T>> | undefined, id: string): Record<string, T> {
  const root = rootOf(table);
  const leaf = lookup(root.node, id, hashOf(id));
  if (!leaf) return asTable(table);
  return face(withIndexes(root, trieDelete(root, id), id, leaf.v, undefined)) as Record<string, T>;
}

/** The number of rows (O(1) for a table). */
export function rowCount(table: Readonly<Record<string, unknown>> | undefined): number {
  return rootOf(table).size;
}

/**
 * The rows whose `index.keyOf` is `key`, in the order they took that key. The index is built on
 * first use (one pass over the table) and from then on carried along by every change of the table.
 */
export function rowsWhere<T>(table: Readonly<Record<string, T>> | undefined, index: RowIndex<T>, key: string): T[] {
  const root = rootOf(table);
  let state = root.indexes?.get(index.name);
  if (!state) {
    let map = EMPTY_TRIE;
    const groups = new Map<string, string[]>();
    for (const id of keysOf(root)) {
      const k = index.keyOf(lookup(root.node, id, hashOf(id))!.v as T);
      if (k !== null) (groups.get(k) ?? groups.set(k, []).get(k)!).push(id);
    }
    for (const [k, ids] of groups) map = trieSet(map, k, Object.freeze(ids));
    state = { spec: index, map };
    // A derived cache on an immutable root: later versions made from this root carry it along.
    (root.indexes ??= new Map()).set(index.name, state);
  }
  const ids = (lookup(state.map.node, key, hashOf(key))?.v as readonly string[] | undefined) ?? [];
  return ids.map((id) => lookup(root.node, id, hashOf(id))!.v as T);
}

/**
 * Calls `changed(id, value)` for every row that differs between two versions of a table
 * (`undefined`: removed). Versions of one lineage are compared along their unshared paths only.
 */
export function diffTables(before: Readonly<Record<string, unknown>> | undefined, now: Readonly<Record<string, unknown>>, changed: (id: string, value: unknown) => void): void {
  const a = before === undefined ? EMPTY_NODE : rootOf(before).node;
  diffSlots(a, rootOf(now).node, changed);
}

/** Every row of a table, in insertion order. */
export function eachRow(table: Readonly<Record<string, unknown>>, visit: (id: string, value: unknown) => void): void {
  const root = rootOf(table);
  for (const id of keysOf(root)) visit(id, lookup(root.node, id, hashOf(id))!.v);
}
