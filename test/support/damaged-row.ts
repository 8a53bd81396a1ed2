import { REGISTRY, pickupAddress } from '../../actors/messages.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';

/**
 * Edits one stored row of an actor's table in a stopped box's store, as a hand repair or a faulty
 * import tool would: the way the tests make a poison row (a field of the wrong type a handler trips on).
 */
export async function damageRow(storage: string, address: string, table: string, id: string, patch: Record<string, unknown>): Promise<void> {
  const persistence = await openPersistence(storage);
  try {
    const key = `row:${address}:${table}:${id}`;
    const row = await persistence.kv.get<Record<string, unknown>>(key);
    if (!row) throw new Error(`no stored row ${key}`);
    await persistence.kv.set(key, { ...row, ...patch });
  } finally {
    await persistence.close();
  }
}

/**
 * Damages one stored pickup (a poison pickup): its actor's record (`pickup/<id>`, whose context is
 * the row), or its row in the registry's table for a pickup an earlier version registered.
 */
export async function damagePickupRow(storage: string, pickupId: string, patch: Record<string, unknown>): Promise<void> {
  const persistence = await openPersistence(storage);
  try {
    const key = `actor:${pickupAddress(pickupId)}`;
    const record = await persistence.kv.get<{ ctx: Record<string, unknown> }>(key);
    if (record) return void (await persistence.kv.set(key, { ...record, ctx: { ...record.ctx, ...patch } }));
  } finally {
    await persistence.close();
  }
  await damageRow(storage, REGISTRY, 'pickups', pickupId, patch);
}
