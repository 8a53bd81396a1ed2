import type { AuthCtx } from '../../actors/auth.js';
import { AUTH, REGISTRY } from '../../actors/messages.js';
import type { RegistryCtx } from '../../actors/registry.js';
import type { Box } from '../../src/box.js';

/**
 * How the auth actor's credentials differ from the PINs the registry has live (READY or RELEASING,
 * made, of the pickup's current serial): one line per difference, none when the two owners agree.
 * Meaningful once the box is idle (every `credential.set`/`credential.drop` delivered).
 */
export function credentialDrift(box: Box): string[] {
  const registry = box.supervisor.view<RegistryCtx>(REGISTRY)!.ctx;
  const auth = box.supervisor.view<AuthCtx>(AUTH)!.ctx;
  const out: string[] = [];
  const live = new Set<string>();
  for (const p of Object.values(registry.pickups)) {
    if (!p.pinIssued || (p.status !== 'READY' && p.status !== 'RELEASING')) continue;
    live.add(p.id);
    const c = auth.credentials[p.id];
    if (!c) out.push(`${p.reference} (${p.status}, PIN ${p.pinSerial}) has no credential`);
    else if (c.serial !== p.pinSerial) out.push(`${p.reference}: credential of PIN ${c.serial}, the registry's is ${p.pinSerial}`);
  }
  for (const id of Object.keys(auth.credentials)) {
    if (!live.has(id)) out.push(`credential of ${registry.pickups[id]?.reference ?? id} (${registry.pickups[id]?.status ?? 'gone'}) outlived its PIN`);
  }
  return out;
}
