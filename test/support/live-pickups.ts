import type { RegistryCtx } from '../../actors/registry.js';
import type { Pickup } from '../../actors/pickup.js';
import { REGISTRY, pickupAddress } from '../../actors/messages.js';
import { splitRows } from '../../actors/runtime/rows.js';
import { TIMERS } from '../../actors/runtime/supervisor.js';
import { openPersistence, type Persistence } from '../../src/persistence/keyv-persistence.js';

const TABLES = ['pickups', 'byReference', 'live'];

/**
 * An in-memory store holding `live` registered pickups (`P1`…, references `V-LIVE-1`…, each with
 * its own mobile number), each an actor of its own, as a box that ran for weeks leaves it: a box
 * started on it restores them. Used by the scale test and the pickups benchmark.
 */
export async function storeWithLivePickups(live: number, at = 0, birthDate = '1980-04-12'): Promise<Persistence> {
  const persistence = await openPersistence('memory:');
  const pickups: Record<string, Pickup> = {};
  const byReference: Record<string, string> = {};
  const ids: Record<string, true> = {};
  for (let i = 1; i <= live; i++) {
    const id = `P${i}`;
    const reference = `V-LIVE-${i}`;
    pickups[id] = {
      id, reference, documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'REGISTERED',
      phone: `+49152${String(10_000_000 + i)}`, birthDate, oldDocumentNumber: null, pinSerial: 0, pinIssued: false, pinQueued: false,
      compartmentId: null, failedAttempts: 0, claim: null, opId: null, createdAt: at, updatedAt: at, readyAt: null,
      expiresAt: null, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
    };
    byReference[reference] = id;
    ids[id] = true;
  }
  // Registered, not loaded: no compartment is given yet (the allocation actor starts with all free).
  const ctx: RegistryCtx = { seq: live, pickups: {}, byReference, live: ids };
  const { head, changes } = splitRows(ctx, TABLES);
  await persistence.saveActor(REGISTRY, { kind: 'registry', ctx: head, timers: [], status: 'active', tables: [...TABLES, TIMERS] }, { changes, full: true });
  const rows = Object.values(pickups);
  for (let i = 0; i < rows.length; i += 1000) {
    await persistence.commit({ actors: rows.slice(i, i + 1000).map((row) => ({ address: pickupAddress(row.id), record: { kind: 'pickup', ctx: row, timers: [], status: 'active' as const } })) });
  }
  return persistence;
}

/**
 * The panel inputs that collect a registered pickup with an old ID card on record: the number,
 * the PIN, the birth date chosen as second factor, the birth date (`BIRTH` in the panel's format).
 * Used by the scale test and the pickups benchmark.
 */
export const collectionInputs = (phone: string, pin: string) =>
  [
    { type: 'phone', phone },
    { type: 'pin', pin },
    { type: 'factor', factor: 'birthDate' },
    { type: 'birthDate', birthDate: '12.04.1980' },
  ] as const;
