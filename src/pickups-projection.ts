import { PICKUP_ROW, pickupRowEvent, type Pickup, type PickupRow, type PickupRowEvent } from '../actors/pickup.js';
import type { BoxEvent } from '../actors/runtime/types.js';

/**
 * The box's read model of pickups: every live pickup by id and by reference, and how many there
 * are of each status. Built once at start from the registry's recovered rows, then kept current
 * only by the `pickup.row` events the registry publishes after each commit — never by reading the
 * registry's table again. So the reads (`pickup`, `pickups`, counts for monitoring) do not depend
 * on where pickups live inside the actors, and a row change that is not published shows up as a
 * difference (test/box/projection-drift.test.ts).
 *
 * Rows are the registry's views without the PIN hash; they are never changed here (a new event
 * replaces a row whole), so a reader that copies one gets exactly what was committed.
 */
export class PickupsProjection {
  /** by id, in the order the pickups were first seen (registration order, as the registry's table) */
  private readonly rows = new Map<string, PickupRow>();
  private readonly ids = new Map<string, string>();
  private readonly statuses = new Map<string, number>();

  /** The projection of the rows a registry holds now (at start, from its recovered state). */
  static of(pickups: Iterable<Pickup>): PickupsProjection {
    const projection = new PickupsProjection();
    for (const p of pickups) projection.apply(pickupRowEvent(p.id, p));
    return projection;
  }

  /** Takes one event of the box's stream: a row's new view or its leaving; any other event is ignored. */
  apply(event: BoxEvent | PickupRowEvent): void {
    if (event.type !== PICKUP_ROW) return;
    const { id, row } = event as PickupRowEvent;
    const before = this.rows.get(id);
    if (before) {
      this.count(before.status, -1);
      if (row === null || before.reference !== row.reference) this.ids.delete(before.reference);
    }
    if (row === null) {
      this.rows.delete(id);
      return;
    }
    this.rows.set(id, row);
    this.ids.set(row.reference, id);
    this.count(row.status, 1);
  }

  /** The live pickup with this reference (surrounding blanks ignored, as the registry does). */
  byReference(reference: string): PickupRow | undefined {
    const id = this.ids.get(reference.trim());
    return id === undefined ? undefined : this.rows.get(id);
  }

  byId(id: string): PickupRow | undefined {
    return this.rows.get(id);
  }

  /** Every live pickup, in registration order. */
  all(): IterableIterator<PickupRow> {
    return this.rows.values();
  }

  get size(): number {
    return this.rows.size;
  }

  /** Live pickups by status (statuses without any are absent), kept as rows change: no scan. */
  byStatus(): Record<string, number> {
    return Object.fromEntries(this.statuses);
  }

  private count(status: string, delta: number): void {
    const n = (this.statuses.get(status) ?? 0) + delta;
    if (n === 0) this.statuses.delete(status);
    else this.statuses.set(status, n);
  }
}
