import * as assert from 'uvu/assert';
import { verifyChain } from '../../scripts/verify-audit.js';
import type { TestBox } from '../helpers.js';

/** Restarts on the same store: exactly the acknowledged pickups are there, and the audit chain verifies. */
export async function assertKeptAfterRestart(reopen: () => Promise<TestBox>, acknowledged: readonly string[]): Promise<void> {
  const again = await reopen();
  try {
    assert.equal(again.box.pickups().map((p) => p.reference).sort(), [...acknowledged].sort(), 'after a restart: exactly what was acknowledged');
    const p = again.box.persistence;
    const verdict = await verifyChain((keys) => p.kv.getMany(keys), await p.auditHead());
    assert.ok(verdict.ok, `audit chain intact: ${JSON.stringify(verdict)}`);
  } finally {
    await again.box.close();
  }
}
