import { REGISTRY } from '../../actors/messages.js';
import type { Pickup } from '../../actors/pickup.js';
import type { RegistryCtx } from '../../actors/registry.js';
import type { ActorRecord } from '../../actors/runtime/types.js';
import type { Box } from '../../src/box.js';

/**
 * The pickups as their owner committed them, by id: what the projection (`box.pickup`,
 * `box.pickups`) is fed from. Tests that check what readers see, or an invariant of the stored
 * state, read it here, so that the owner of the rows (today the registry's table) is named once.
 */
export function committedPickups(box: Box): Readonly<Record<string, Pickup>> {
  return box.supervisor.view<RegistryCtx>(REGISTRY)!.ctx.pickups;
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
  return { pickups: registry?.pickups ?? {}, byReference: registry?.byReference ?? {} };
}
