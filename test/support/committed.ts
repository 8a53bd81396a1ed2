import { REGISTRY } from '../../actors/messages.js';
import type { Pickup } from '../../actors/pickup.js';
import type { RegistryCtx } from '../../actors/registry.js';
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
