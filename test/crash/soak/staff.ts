import type { Box } from '../../../src/box.js';

/**
 * Staff answering the compartment alarms as their texts say: they look into the compartment
 * (with the service key, the box does not see it), take out any document that belongs to no
 * pickup recorded in it, clear the fault, and cancel a pickup whose document is gone.
 * `emptied` is told what they took out of which compartment.
 */
export async function clearFaults(box: Box, contents: Record<string, string[]>, emptied: (c: string, got: string[]) => void, by = 'staff-soak'): Promise<void> {
  for (const c of box.compartments()) {
    if (!c.fault || c.fault === 'ACTOR_FAILED') continue;
    const holder = box.pickups().find((p) => p.compartmentId === c.id && p.endedAt === null);
    const inside = contents[c.id] ?? [];
    const strays = inside.filter((r) => r !== holder?.reference);
    if (strays.length) {
      emptied(c.id, strays);
      contents[c.id] = inside.filter((r) => !strays.includes(r));
    }
    await box.clearCompartmentFault(c.id, by);
    await box.idle();
    if (holder && !inside.includes(holder.reference)) await box.cancelPickup(holder.reference, by).catch(() => {});
    await box.idle();
  }
}
