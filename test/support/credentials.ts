import type { AuthCtx } from '../../actors/auth.js';
import { AUTH } from '../../actors/messages.js';
import type { Box } from '../../src/box.js';
import { registryCrypto } from '../../src/crypto.js';
import { committedPickups } from './committed.js';

/**
 * How the auth actor's credentials differ from the PINs the registry has live (READY or RELEASING,
 * made, of the pickup's current serial, under the keyed hash of its number, held aside exactly
 * while RELEASING): one line per difference, none when the two owners agree. Meaningful once the
 * box is idle (every `credential.*` message delivered).
 */
export function credentialDrift(box: Box): string[] {
  const pickups = committedPickups(box);
  const auth = box.supervisor.view<AuthCtx>(AUTH)!.ctx;
  const numberKey = registryCrypto(Buffer.from(box.config.pinKey, 'utf8')).numberKey;
  const out: string[] = [];
  const live = new Set<string>();
  for (const p of Object.values(pickups)) {
    if (!p.pinIssued || (p.status !== 'READY' && p.status !== 'RELEASING')) continue;
    live.add(p.id);
    const c = auth.credentials[p.id];
    if (!c) out.push(`${p.reference} (${p.status}, PIN ${p.pinSerial}) has no credential`);
    else if (c.serial !== p.pinSerial) out.push(`${p.reference}: credential of PIN ${c.serial}, the registry's is ${p.pinSerial}`);
    else if (p.phone && c.numberKey !== numberKey(p.phone)) out.push(`${p.reference}: credential under another number`);
    else if ((c.held === true) !== (p.status === 'RELEASING')) out.push(`${p.reference} (${p.status}): credential ${c.held ? 'held aside' : 'live'}`);
  }
  for (const id of Object.keys(auth.credentials)) {
    if (!live.has(id)) out.push(`credential of ${pickups[id]?.reference ?? id} (${pickups[id]?.status ?? 'gone'}) outlived its PIN`);
  }
  return out;
}
