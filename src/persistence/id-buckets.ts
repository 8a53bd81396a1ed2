import type Keyv from 'keyv';
import { naturalOrder } from '../../actors/runtime/order.js';

/**
 * The keys one commit writes: a value, `undefined` to delete the key, or a live id list of an
 * `IdBuckets` (written by `materialize` as an array, the key deleted when the list is empty).
 */
export type Staged = Map<string, unknown>;

/** FNV-1a of the id, to one of `count` lists: stable across processes and versions (it is part of the stored layout). */
export function bucketOf(id: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % count;
}

/** Turns the live id lists staged in `out` into what is stored, once the commit's staging is done. */
export function materialize(out: Staged): Staged {
  for (const [key, value] of out) if (value instanceof Set) out.set(key, value.size ? [...value] : undefined);
  return out;
}

/**
 * A set of ids stored as `count` lists under keys of their own, each id in the list its hash
 * picks: adding or removing an id rewrites one list of about n / count ids, not a list of every
 * id (which made each change cost more than the last as the set grew). The row ids of a table
 * and the index of the box's actors are kept this way.
 *
 * The lists are read once, all with one `getMany`, and then kept here as the committed state plus
 * the changes staged by the running commit; a commit that fails drops the whole object (its
 * owner makes a new one), so they are read again from the store, which rolled the commit back.
 */
export class IdBuckets {
  private lists: Set<string>[] | null = null;

  /**
   * @param keyOf the key of list `bucket`
   * @param legacyKey where one list of every id was kept before the ids were bucketed
   */
  constructor(
    private readonly kv: Keyv,
    private readonly keyOf: (bucket: number) => string,
    private readonly count: number,
    private readonly legacyKey: string,
  ) {}

  /** Whether the lists are read: then `add`, `delete` and `clear` need no read. */
  get loaded(): boolean {
    return this.lists !== null;
  }

  /**
   * Reads every list, once. A list at `legacyKey` (a store written by an earlier version) is
   * folded in, and its move — every non-empty list written, the old key deleted — is staged in
   * `out`, so that it is committed whole with whatever `out` holds.
   */
  async load(out: Staged): Promise<readonly Set<string>[]> {
    if (this.lists) return this.lists;
    const keys = Array.from({ length: this.count }, (_, b) => this.keyOf(b));
    const values = await this.kv.getMany<string[]>([...keys, this.legacyKey]);
    // Another caller may have read them meanwhile: theirs stay, with what they staged since.
    if (this.lists) return this.lists;
    const lists = keys.map((_, b) => new Set(values[b] ?? []));
    const legacy = values[this.count];
    if (legacy) {
      for (const id of legacy) lists[bucketOf(id, this.count)]!.add(id);
      out.set(this.legacyKey, undefined);
      for (const [b, ids] of lists.entries()) if (ids.size) out.set(keys[b]!, ids);
    }
    return (this.lists = lists);
  }

  /** Every id, in the ids' natural order (A2 before A10), not in the lists' hash order. */
  async ids(out: Staged): Promise<string[]> {
    return (await this.load(out)).flatMap((ids) => [...ids]).sort(naturalOrder);
  }

  /**
   * Adds `id`; stages its list in `out` when it changed. Synchronous once loaded: a commit stages
   * dozens of row ids, and an async call per id cost a promise each.
   */
  add(id: string, out: Staged): void {
    const b = bucketOf(id, this.count);
    const ids = this.read()[b]!;
    if (ids.has(id)) return;
    ids.add(id);
    out.set(this.keyOf(b), ids);
  }

  /** Removes `id`; stages its list in `out` when it changed (once loaded). */
  delete(id: string, out: Staged): void {
    const b = bucketOf(id, this.count);
    const ids = this.read()[b]!;
    if (ids.delete(id)) out.set(this.keyOf(b), ids);
  }

  /** Removes every id, staging each list that held any; returns the ids removed (once loaded). */
  clear(out: Staged): string[] {
    const removed: string[] = [];
    for (const [b, ids] of this.read().entries()) {
      if (ids.size === 0) continue;
      for (const id of ids) removed.push(id);
      ids.clear();
      out.set(this.keyOf(b), ids);
    }
    return removed;
  }

  private read(): Set<string>[] {
    if (!this.lists) throw new Error('id lists changed before they were loaded');
    return this.lists;
  }
}
