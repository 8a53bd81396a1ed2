import type { CommitBatch } from '../../actors/runtime/supervisor.js';
import { openPersistence, type Persistence } from '../../src/persistence/keyv-persistence.js';

export interface KillableStore {
  readonly persistence: Persistence;
  /** resolves when the "process" dies */
  readonly killed: Promise<void>;
  isKilled(): boolean;
  /** Kills the process now: the box on the store stops, and from now on every write is refused. */
  kill(): void;
  /** The box started on this store, stopped when the process dies. */
  attach(box: { supervisor: { close(): Promise<void> } }): void;
}

/**
 * The store at `url`, as a process that can be killed: right after the first commit `killAfter`
 * matches (that commit is durable, nothing after it is: its handler sees a failure, so none of its
 * effects run), or when `kill()` is called. After the kill no commit, claim or release gets through.
 */
export async function killableStore(url: string, killAfter?: (batch: CommitBatch) => boolean): Promise<KillableStore> {
  const inner = await openPersistence(url);
  let dead = false;
  let onKill!: () => void;
  const killed = new Promise<void>((resolve) => (onKill = resolve));
  const gone = () => Object.assign(new Error('the process was killed'), { code: 'KILLED' });
  let box: { supervisor: { close(): Promise<void> } } | null = null;
  const kill = () => {
    dead = true;
    onKill();
    void box?.supervisor.close();
    setImmediate(() => void inner.close());
  };
  const persistence: Persistence = {
    ...inner,
    async commit(batch) {
      if (dead) throw gone();
      await inner.commit(batch);
      if (killAfter?.(batch)) {
        kill();
        throw gone();
      }
    },
    async claimOnce(key, owner) {
      if (dead) throw gone();
      return inner.claimOnce(key, owner);
    },
    async release(key, owner) {
      if (dead) throw gone();
      await inner.release(key, owner);
    },
  };
  return { persistence, killed, isKilled: () => dead, kill, attach: (b) => void (box = b) };
}
