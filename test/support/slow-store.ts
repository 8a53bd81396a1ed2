import type { ActorPersistence, CommitBatch } from '../../actors/runtime/supervisor.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';

/**
 * A memory store whose every transaction first waits a real `ms` (as an fsync, or SQLite's BEGIN
 * round trip, does), recording the actors of each transaction in commit order. With `fills:
 * false` it hands the inner store a plain copy of the batch: a store that knows nothing of
 * `CommitBatch.fill`. `afterFillMs`: a further wait once the batch is taken (the writes and the
 * fsync after SQLite's BEGIN), during which the group can no longer grow.
 */
export async function slowStore({ ms = 2, fills = true, afterFillMs = 0 }: { ms?: number; fills?: boolean; afterFillMs?: number } = {}): Promise<{
  persistence: ActorPersistence;
  groups: string[][];
}> {
  const inner = await openPersistence('memory:');
  const groups: string[][] = [];
  const persistence = withCommit(inner, async (batch) => {
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    if (fills) batch.fill?.();
    if (afterFillMs > 0) await new Promise((resolve) => setTimeout(resolve, afterFillMs));
    await inner.commit(fills ? batch : { actors: batch.actors, audit: batch.audit, sent: batch.sent, handled: batch.handled, probe: batch.probe });
    groups.push((batch.actors ?? []).map((a) => a.address));
  });
  return { persistence, groups };
}

/** `inner` with its `commit` replaced by `commit` (which usually calls the inner one); reads and the rest go to `inner`. */
export function withCommit(inner: ActorPersistence, commit: (batch: CommitBatch) => Promise<void>): ActorPersistence {
  return {
    commit,
    loadActors: () => inner.loadActors(),
    loadMessages: () => inner.loadMessages(),
    saveActor: (a, r, rows) => inner.saveActor(a, r, rows),
    deleteActor: (a) => inner.deleteActor(a),
    appendAudit: (e) => inner.appendAudit(e),
  };
}

/**
 * `inner` behind a gate the test holds: while `state.open` is false, every transaction, once its
 * group is cut, waits until the test lets it go (`held.shift()!()` the oldest, `openAll()` every
 * one and those to come), so the order of events is fixed by the test, not by timing. `groups`
 * lists the actors of each transaction written, in order.
 */
export function gatedStore(inner: ActorPersistence) {
  const groups: string[][] = [];
  const held: Array<() => void> = [];
  const state = { open: true };
  const persistence = withCommit(inner, async (batch) => {
    batch.fill?.();
    if (!state.open) await new Promise<void>((resolve) => held.push(resolve));
    await inner.commit(batch);
    groups.push((batch.actors ?? []).map((a) => a.address));
  });
  const openAll = () => {
    state.open = true;
    while (held.length > 0) held.shift()!();
  };
  return { persistence, groups, held, state, openAll };
}

/**
 * `gatedStore` over `inner`, whose next transaction fails once `failing.next` is set (and `writes`
 * holds for it: by default any), after the gate, as a write the store cannot take.
 */
export function failingGate(inner: ActorPersistence, writes: (batch: CommitBatch) => boolean = () => true) {
  const failing = { next: false };
  const gate = gatedStore(
    withCommit(inner, async (batch) => {
      if (!failing.next || !writes(batch)) return inner.commit(batch);
      failing.next = false;
      throw new Error('the store cannot take this write');
    }),
  );
  return { ...gate, failing };
}

/** A few turns of the event loop: what is ready to run has run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
