import type { AllocationCtx } from '../../actors/allocation.js';
import type { AuthCtx } from '../../actors/auth.js';
import { ALLOCATION, AUTH, PICKUP_PREFIX, REGISTRY } from '../../actors/messages.js';
import type { ActorRecord, PersistedTimer } from '../../actors/runtime/types.js';
import type { RegistryCtx } from '../../actors/registry.js';
import type { Pickup } from '../../actors/pickup.js';
import { splitRows } from '../../actors/runtime/rows.js';
import { TIMERS } from '../../actors/runtime/supervisor.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';

/**
 * The pickups as a version before pickups were actors kept them: every pickup actor's row back in
 * the registry's table, its timers the registry's, and no pickup actors (nor the registry's `live`).
 */
function foldPickups(actors: ReadonlyMap<string, ActorRecord>): { ctx: RegistryCtx; timers: PersistedTimer[]; gone: Array<{ address: string; deleted: true }> } {
  const registry = actors.get(REGISTRY)!;
  const { live: _live, ...ctx } = registry.ctx as RegistryCtx;
  const pickups: Record<string, Pickup> = { ...ctx.pickups };
  const timers = [...registry.timers];
  const gone: Array<{ address: string; deleted: true }> = [];
  for (const [address, record] of actors) {
    if (!address.startsWith(PICKUP_PREFIX)) continue;
    const row = record.ctx as Pickup;
    pickups[row.id] = row;
    timers.push(...record.timers);
    gone.push({ address, deleted: true });
  }
  return { ctx: { ...ctx, pickups }, timers, gone };
}

/** The registry's tables as the version before the auth actor saved them. */
const LEGACY_TABLES = ['pickups', 'byReference', 'compartments', 'numberThrottles', 'kioskThrottles', 'byNumber'];

/**
 * Rewrites a stopped box's store into the shape the version before the auth actor left: each
 * pickup row carries `pinHash` (what `hashOf` picks; no `pinIssued`), the registry's tables hold
 * the throttles and the number index (the auth actor's, with `throttles`; else empty) and the
 * compartments' slots (the allocation actor's), and there is neither an auth nor an allocation actor.
 */
export async function toLegacyStore(storage: string, hashOf: (id: string, auth: AuthCtx) => string | null, throttles = false): Promise<void> {
  const persistence = await openPersistence(storage);
  try {
    const actors = await persistence.loadActors();
    const folded = foldPickups(actors);
    const auth = actors.get(AUTH)!.ctx as AuthCtx;
    const ctx = { ...folded.ctx, compartments: (actors.get(ALLOCATION)!.ctx as AllocationCtx).slots };
    const pickups: Record<string, unknown> = {};
    for (const [id, p] of Object.entries(ctx.pickups)) {
      const { pinIssued: _issued, ...row } = p as Pickup;
      pickups[id] = { ...row, pinHash: hashOf(id, auth) };
    }
    const byNumber = Object.fromEntries(Object.values(auth.credentials).map((c) => [c.numberKey, [c.pickupId]]));
    const legacy = throttles
      ? { ...ctx, pickups, numberThrottles: { ...auth.numberThrottles }, kioskThrottles: { ...auth.kioskThrottles }, byNumber }
      : { ...ctx, pickups, numberThrottles: {}, kioskThrottles: {}, byNumber: {} };
    const { head, changes } = splitRows(legacy, LEGACY_TABLES);
    for (const timer of folded.timers) changes.push({ table: TIMERS, id: timer.key, value: timer });
    await persistence.commit({
      actors: [
        ...folded.gone,
        { address: AUTH, deleted: true },
        { address: ALLOCATION, deleted: true },
        { address: REGISTRY, record: { kind: 'registry', ctx: head, timers: [], status: 'active', tables: [...LEGACY_TABLES, TIMERS] }, rows: { changes, full: true } },
      ],
    });
  } finally {
    await persistence.close();
  }
}

/**
 * Rewrites a stopped box's store into the shape the version before pickup actors left: every
 * pickup a row of the registry's table again (its timers the registry's), beside the auth and
 * allocation actors.
 */
export function toRegistryPickupsStore(storage: string): Promise<void> {
  return foldIntoRegistry(storage, false);
}

/**
 * Rewrites a stopped box's store into the shape the version before the allocation actor left:
 * the compartments' slots in the registry's `compartments` table, and no allocation actor.
 * `edit` changes the registry's state as that version could have left it (say, killed mid-way).
 */
export function toPreAllocationStore(storage: string, edit?: (ctx: RegistryCtx & { compartments: AllocationCtx['slots'] }) => void): Promise<void> {
  return foldIntoRegistry(storage, true, edit);
}

/** The pickups folded into the registry's table, and with `allocation` the allocation actor's slots too. */
async function foldIntoRegistry(storage: string, allocation: boolean, edit?: (ctx: RegistryCtx & { compartments: AllocationCtx['slots'] }) => void): Promise<void> {
  const persistence = await openPersistence(storage);
  try {
    const actors = await persistence.loadActors();
    const registry = actors.get(REGISTRY)!;
    const folded = foldPickups(actors);
    const ctx = allocation ? { ...folded.ctx, compartments: { ...(actors.get(ALLOCATION)!.ctx as AllocationCtx).slots } } : folded.ctx;
    if (allocation) edit?.(ctx as RegistryCtx & { compartments: AllocationCtx['slots'] });
    const kept = (registry.tables ?? []).filter((t) => t !== 'live' && t !== TIMERS);
    const tables = allocation ? [...new Set([...kept, 'compartments'])] : kept;
    const { head, changes } = splitRows(ctx, tables);
    for (const timer of folded.timers) changes.push({ table: TIMERS, id: timer.key, value: timer });
    await persistence.commit({
      actors: [
        ...folded.gone,
        ...(allocation ? [{ address: ALLOCATION, deleted: true as const }] : []),
        { address: REGISTRY, record: { kind: 'registry', ctx: head, timers: [], status: 'active', tables: [...tables, TIMERS] }, rows: { changes, full: true } },
      ],
    });
  } finally {
    await persistence.close();
  }
}
