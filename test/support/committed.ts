import { PICKUP_PREFIX, REGISTRY, pickupAddress } from '../../actors/messages.js';
import type { Pickup } from '../../actors/pickup.js';
import type { RegistryCtx } from '../../actors/registry.js';
import type { ActorRecord } from '../../actors/runtime/types.js';
import type { CommitBatch } from '../../actors/runtime/supervisor.js';
import type { Box } from '../../src/box.js';

/**
 * The pickups as their owners committed them, by id: what the projection (`box.pickup`,
 * `box.pickups`) is fed from. Tests that check what readers see, or an invariant of the stored
 * state, read it here, so that the owners of the rows are named once: each pickup's own actor
 * (`pickup/<id>`), and the registry's table for pickups an earlier version registered.
 */
export function committedPickups(box: Box): Readonly<Record<string, Pickup>> {
  const rows: Record<string, Pickup> = { ...box.supervisor.view<RegistryCtx>(REGISTRY)!.ctx.pickups };
  for (const v of box.supervisor.viewsOf<Pickup>('pickup')) rows[v.ctx.id] = v.ctx as Pickup;
  return rows;
}

/** One pickup as its owner committed it (see committedPickups). */
export function committedPickup(box: Box, id: string): Pickup | undefined {
  return (box.supervisor.view<Pickup>(pickupAddress(id))?.ctx as Pickup | undefined) ?? box.supervisor.view<RegistryCtx>(REGISTRY)!.ctx.pickups[id];
}

/** References ever registered, whether their pickup is still live or archived (a reference is never registered twice). */
export function registeredReferences(box: Box): number {
  return Object.keys(box.supervisor.view<RegistryCtx>(REGISTRY)!.ctx.byReference).length;
}

/**
 * The same from the actor records a store holds (read back after a kill, without a box): the
 * pickups by id, and the pickup id of every reference ever registered.
 */
export function storedPickups(records: ReadonlyMap<string, ActorRecord>): { pickups: Readonly<Record<string, Pickup>>; byReference: Readonly<Record<string, string>> } {
  const registry = (records.get(REGISTRY) as ActorRecord<RegistryCtx> | undefined)?.ctx;
  const pickups: Record<string, Pickup> = { ...registry?.pickups };
  for (const [address, record] of records) if (address.startsWith(PICKUP_PREFIX)) pickups[address.slice(PICKUP_PREFIX.length)] = record.ctx as Pickup;
  return { pickups, byReference: registry?.byReference ?? {} };
}

/**
 * Whether a commit writes a pickup row that `match` accepts: a pickup actor's record (its context
 * is the row), or a row of the registry's table (a pickup an earlier version registered). Tests
 * that kill a box at a commit name the pickup's state this way, whoever owns the row.
 */
export function writesPickup(batch: CommitBatch, match: (row: Pickup) => boolean): boolean {
  return (batch.actors ?? []).some((a) =>
    a.address.startsWith(PICKUP_PREFIX)
      ? 'record' in a && match(a.record.ctx as Pickup)
      : a.address === REGISTRY && 'rows' in a && (a.rows?.changes.some((c) => c.table === 'pickups' && c.value !== undefined && match(c.value as Pickup)) ?? false),
  );
}
